"""strip_bidi removes every bidi control and nothing else."""

from __future__ import annotations

import pytest

from bot.core.text import strip_bidi

CODES = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
CONTROLS = [chr(code) for code in CODES]


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_each_bidi_control_is_stripped(control: str) -> None:
    assert strip_bidi(f"Eve{control}redaolnwod") == "Everedaolnwod"


def test_letters_of_any_script_stay() -> None:
    for name in ("Jürgen Weiß", "محمد", "שרה", "Anna\u200dMaria", "Dr. Weber (IHK Köln)"):
        assert strip_bidi(name) == name
