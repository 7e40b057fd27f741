"""Fake Telegram Bot API server so the real PTB bot can be tested end to end offline.

By job: ``api`` serves the Bot API over aiohttp (FakeTelegram), ``state`` is the simulated
world, ``records`` what the bot did, ``faults`` what tests inject, ``markup`` and ``keyboards``
check formatted text and reply markup like Telegram, ``protocol`` is what they all speak.
"""

from tests.fake_telegram.api import FakeTelegram
from tests.fake_telegram.faults import Fault, FaultKind, Phase, RateLimitConfig
from tests.fake_telegram.keyboards import parse_reply_markup
from tests.fake_telegram.markup import format_text
from tests.fake_telegram.protocol import ApiError
from tests.fake_telegram.records import (
    AnsweredCallback,
    ApiCall,
    FailedCall,
    MessageVersion,
    SentDocument,
    SentMessage,
)

__all__ = [
    "AnsweredCallback",
    "ApiCall",
    "ApiError",
    "FailedCall",
    "FakeTelegram",
    "Fault",
    "FaultKind",
    "MessageVersion",
    "Phase",
    "RateLimitConfig",
    "SentDocument",
    "SentMessage",
    "format_text",
    "parse_reply_markup",
]
