"""Platform-free capabilities: one package per thing a user would name; see README, Architecture."""
