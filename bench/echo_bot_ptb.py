"""The baseline for bench/interview_load.py on python-telegram-bot: a bare PTB echo bot.

Same transport settings as patentbot's ``bot/transports/telegram/with_ptb.py`` (Application with
base_url/base_file_url pointed at BOT_API_SERVER, HTML parse mode by default, concurrent
updates, long polling for message and callback_query updates, httpx at WARNING, INFO
logging as ``bot/cli/__init__.py`` sets it), but no database and no logic: every text message is
answered with one sendMessage carrying the same text.

Run by the benchmark as ``python bench/echo_bot_ptb.py`` with BOT_TOKEN and BOT_API_SERVER set.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, Defaults, MessageHandler, filters


async def echo(update: Update, context: Any) -> None:
    message = update.message
    if message is not None and message.text:
        await context.bot.send_message(message.chat.id, message.text)


PtbApplication = Application[Any, Any, Any, Any, Any, Any]


def application_from_env() -> PtbApplication:
    """The Application as patentbot's transport makes it, from BOT_TOKEN and BOT_API_SERVER
    (the ptb peer, bench/peer_ptb.py, takes it from here too)."""
    server = os.environ["BOT_API_SERVER"].rstrip("/")
    return (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{server}/bot")
        .base_file_url(f"{server}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(True)
        .build()
    )


async def poll_until_signal(application: PtbApplication) -> None:
    """Long polling for messages and button presses until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=["message", "callback_query"])
        await stop.wait()
        await application.updater.stop()
        await application.stop()


async def main() -> None:
    application = application_from_env()
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, echo))
    await poll_until_signal(application)


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # as with_ptb.py does
    if os.environ.get("BENCH_VARIANTS"):  # --profile sends SIGUSR1: the profiler must be there
        from bench.variants import VARIANTS, apply

        apply(VARIANTS - {"timings"})
    asyncio.run(main())
