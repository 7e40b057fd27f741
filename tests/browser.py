"""A real browser for the web page tests: Debian's headless Chromium, driven by Playwright.

Playwright cannot download its own browser here, so it is pointed at /usr/bin/chromium
(scripts/ensure_chromium.sh installs it for `make test`). The flags keep Chromium off the
network: on this closed machine its background connections are refused many at a time.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Page, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@asynccontextmanager
async def chromium_page() -> AsyncIterator[Page]:
    """A fresh browser profile and one page at desktop size; a missing Chromium fails loudly."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat before a browser start
        raise RuntimeError(
            "Debian's Chromium is missing: run `bash scripts/ensure_chromium.sh` "
            "(make test does) or `sudo apt-get install chromium`"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
        )
        try:
            context = await browser.new_context(viewport=DESKTOP, locale="de-DE")
            yield await context.new_page()
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> list[Path]:
    """`docs/screenshots/<name>-desktop.png` and `-phone.png`, linked from the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{label}.png"
        await page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    await page.set_viewport_size(DESKTOP)
    return saved
