"""The baseline for bench/interview_load.py: a bare aiogram echo bot.

Same transport settings as patentbot's ``bot/transports/telegram/with_aiogram.py``
(AiohttpSession pointed at BOT_API_SERVER, HTML parse mode by default, long polling for message and
callback_query updates, INFO logging as ``bot/cli/__init__.py`` sets it), but no database and no
logic: every text message is answered with one sendMessage carrying the same text.

Run by the benchmark as ``python bench/echo_bot.py`` with BOT_TOKEN and BOT_API_SERVER set.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Message


def bot_from_env() -> Bot:
    """The Bot as patentbot's transport makes it, from BOT_TOKEN and BOT_API_SERVER (the
    aiogram peer, bench/peer_aiogram.py, takes it from here too)."""
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(os.environ["BOT_API_SERVER"].rstrip("/"))
    )
    return Bot(
        os.environ["BOT_TOKEN"],
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def main() -> None:
    bot = bot_from_env()
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        if message.text:
            await message.answer(message.text)

    await dispatcher.start_polling(bot, allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if os.environ.get("BENCH_VARIANTS"):  # what-ifs of bench/variants.py, for both bots alike
        from bench.variants import VARIANTS, apply

        apply(VARIANTS - {"timings"})
    asyncio.run(main())
