"""The advisor registry: authorizations, experience exchanges, the escalation ladder."""
