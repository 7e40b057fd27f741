"""Decisions (Beschlüsse): record, correct, amend, list, search."""
