"""Calendars: .ics invitations by direct message and subscription feeds."""
