"""Linking chats and identities across platforms with one-time codes."""
