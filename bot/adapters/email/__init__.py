"""The e-mail channel of the outbox: SMTP (aiosmtplib) or, with no server configured, `.eml`
files in a folder next to the database."""
