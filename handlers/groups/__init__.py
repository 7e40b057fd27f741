"""Registering a chat as a working group; settings of groups and people."""
