"""Chat platform adapters: each turns its platform's events into messages for the dispatcher
and delivers the outbox there. Only an adapter imports its platform's client library."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.platform import PlatformTraits

if TYPE_CHECKING:
    from bot.core.settings import Settings


class AdapterStartError(RuntimeError):
    """An adapter cannot start for a reason the admin must fix (e.g. a refused token).

    The message says what to do; the CLI shows it as it is, without knowing the platform's
    library or its exception types.
    """


def platform_traits(settings: Settings) -> dict[str, PlatformTraits]:
    """What differs per platform, by platform name, known without importing an adapter
    (and its client library); the adapters' own `command_prefix`/`max_buttons` agree."""
    return {
        "console": PlatformTraits(),
        "telegram": PlatformTraits(),
        # Matrix shows buttons as keycap reactions 1️⃣…🔟 (bot/adapters/matrix.py KEYCAPS;
        # a test keeps the two in step).
        "matrix": PlatformTraits(
            command_prefix=settings.matrix_command_prefix, max_buttons=10, opens_direct_chats=True
        ),
    }
