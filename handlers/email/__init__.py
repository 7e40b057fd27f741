"""E-mail, outbound: members' addresses (double opt-in), channel choices, routing a message
to chat and/or mail, and the report of mail that could not be delivered."""
