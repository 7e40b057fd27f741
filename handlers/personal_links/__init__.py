"""Answering without the chat: personal web links to a poll or a meeting, for members and
for people outside the chats whom a chair added by name and e-mail address."""
