"""Fake Telegram Bot API server so the real PTB bot can be tested end to end offline."""

from tests.fake_telegram.api import (
    AnsweredCallback,
    ApiCall,
    ApiError,
    FailedCall,
    FakeTelegram,
    MessageVersion,
    RateLimitConfig,
    SentDocument,
    SentMessage,
    format_text,
    parse_reply_markup,
)

__all__ = [
    "AnsweredCallback",
    "ApiCall",
    "ApiError",
    "FailedCall",
    "FakeTelegram",
    "MessageVersion",
    "RateLimitConfig",
    "SentDocument",
    "SentMessage",
    "format_text",
    "parse_reply_markup",
]
