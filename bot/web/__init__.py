"""Web pages on the bot's HTTP server, for people who are not in any chat.

Every page is a view over the same handler and storage functions the chat uses; this package
only turns requests into calls and results into HTML, JSON or CSV.
"""
