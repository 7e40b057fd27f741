"""Delivery as admins see it: messages that may not have arrived, and sending one again."""
