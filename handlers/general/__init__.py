"""What every newcomer touches first: /start, /help, /privacy, /date."""
