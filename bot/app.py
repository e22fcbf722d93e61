"""Wiring: settings → database, programme, router; broadcast delivery once connected."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import Delivery
from bot.settings import Settings
from forms.definition import programme
from handlers.context import Context
from handlers.router import Router
from models.db import connect


async def build(settings: Settings) -> tuple[Router, AsyncEngine]:
    engine, sessions = await connect(settings.database_url)
    context = Context(
        sessions=sessions,
        form=programme(settings.programme),
        admin_ids=settings.admin_ids,
        default_locale=settings.default_locale,
        bot_username=settings.bot_username,  # a Telegram transport asks Telegram instead
        public_url=str(settings.public_url) if settings.public_url else None,
        broadcast_rate=settings.broadcast_rate,
    )
    return Router(context), engine


@asynccontextmanager
async def deliveries(context: Context) -> AsyncIterator[Delivery]:
    """Broadcasts go out in the background while the transport serves updates (each
    transport enters this once ``context.sender`` is set); unfinished jobs resume here."""
    delivery = Delivery(context)
    delivery.start()
    try:
        yield delivery
    finally:
        await delivery.stop()


async def until_stopped(handle_signals: bool) -> None:
    """Wait for SIGINT/SIGTERM (when handling signals) or for the task to be cancelled."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for signum in signals:
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)
