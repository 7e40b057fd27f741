"""In the advisor tests a `chat` is the advisor registry's (tests/advisor_registry.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.clock import FixedClock
from tests.advisor_registry import registry_chat
from tests.harness import Conversation


@pytest.fixture
async def chat(database_url: str, clock: FixedClock) -> AsyncIterator[Conversation]:
    """The admin working group and AG Transfer registered, with the advisor registry on."""
    async with registry_chat(database_url, clock) as conversation:
        yield conversation
