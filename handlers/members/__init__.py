"""Members of a working group and their roles."""
