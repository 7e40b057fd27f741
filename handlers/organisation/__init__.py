"""The organisation above the groups: aliases, decisions addressed to other groups, inboxes."""
