"""Buttons as Matrix reactions, with keycaps that mean what people read.

A button whose label starts with its own number ("2 ✅ Di, 15.06." or "2) Di, 15.06.") gets
that number's keycap, 2️⃣, when every button has a number of its own: a date poll's 2️⃣ is
date 2, so nobody reads a key table. Other buttons ("Yes, delete" / "No, keep") are numbered
in order. Keycaps rather than native poll events (MSC3381): reactions work in every client
and room version, and the bot can edit the message they belong to as answers come in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.messages import Button

KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
_OWN_NUMBER = re.compile(r"^(\d{1,2})(?:\)\s*|\s+)")


def keyed(buttons: Sequence[Button]) -> list[tuple[str, str, Button]]:
    """(keycap, label to show after it, button) for at most ten buttons."""
    buttons = list(buttons)[: len(KEYCAPS)]
    numbers = [_OWN_NUMBER.match(b.label) for b in buttons]
    own = [int(m.group(1)) if m else None for m in numbers]
    if (
        buttons
        and all(n is not None and 1 <= n <= len(KEYCAPS) for n in own)
        and len(set(own)) == len(own)
    ):
        return [
            (KEYCAPS[n - 1], b.label[m.end() :], b)  # type: ignore[union-attr,operator]
            for n, m, b in zip(own, numbers, buttons, strict=True)
        ]
    return [(KEYCAPS[i], b.label, b) for i, b in enumerate(buttons)]
