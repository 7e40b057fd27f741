"""Baseline for bench/throughput.py: a plain python-telegram-bot handler that only replies."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def reply(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await update.get_bot().send_message(update.effective_chat.id, "Hallo!")


def main() -> None:
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .base_file_url(os.environ["TELEGRAM_BASE_FILE_URL"])
        .build()
    )
    application.add_handler(MessageHandler(filters.COMMAND, reply))
    application.run_polling(poll_interval=0.0, timeout=10, allowed_updates=["message"])


if __name__ == "__main__":
    main()
