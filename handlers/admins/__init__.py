"""Admins: the deployment's role above chairs, and how to reach them."""
