"""Reminders: the policy, the sweep that sends them, and people's settings."""
