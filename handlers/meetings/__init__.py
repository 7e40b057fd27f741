"""Meetings and meeting series: schedule, edit, postpone, cancel, find."""
