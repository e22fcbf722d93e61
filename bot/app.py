"""Wiring: settings (and the Telegram bot, once it is connected) → database, programme,
router; broadcast delivery."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery.outbox import Delivery
from bot.pages.identity import Signer, cookie_key
from bot.settings import Settings, route_rates
from forms.definition import programme
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from handlers.kernel.types import Sender
from models.db import connect

if TYPE_CHECKING:
    from bot.delivery.mail import Mailer


@dataclass(frozen=True)
class Platform:
    """What a Telegram transport knows of its bot once connected
    (bot/transports/telegram/outgoing.py)."""

    sender: Sender
    username: str | None
    bot_id: int


async def build(settings: Settings, telegram: Platform | None = None) -> tuple[Router, AsyncEngine]:
    """The router, its context complete: with the Telegram bot's sender, name and id when
    there is one (connected first), else the name BOT_USERNAME gives for survey links."""
    engine, sessions = await connect(settings.database_url)
    context = Context(
        sessions=sessions,
        form=programme(settings.programme),
        admin_ids=settings.admin_ids,
        default_locale=settings.default_locale,
        bot_username=telegram.username if telegram else settings.bot_username,
        bot_id=telegram.bot_id if telegram else 0,
        sender=telegram.sender if telegram else None,
        public_url=str(settings.public_url) if settings.public_url else None,
        broadcast_rate=settings.broadcast_rate,
        routes=frozenset(route_rates(settings)),
        email_rate=settings.smtp_rate,
    )
    return Router(context), engine


@asynccontextmanager
async def deliveries(context: Context, settings: Settings) -> AsyncIterator[Delivery]:
    """Broadcasts go out in the background while the process serves (a Telegram
    transport enters this once ``context.sender`` is set, the web chat alone without
    one); unfinished jobs resume here."""
    mailer = await _mailer(context, settings)
    delivery = Delivery(context, mailer=mailer)
    delivery.start()
    try:
        yield delivery
    finally:
        await delivery.stop()
        if mailer is not None:
            await mailer.close()


async def _mailer(context: Context, settings: Settings) -> Mailer | None:
    if settings.smtp_url is None:
        return None
    from bot.delivery.mail import Mailer  # aiosmtplib: only in a deployment that mails

    assert settings.smtp_from is not None and settings.public_url is not None  # checked
    secret = settings.web_secret.get_secret_value() if settings.web_secret else None
    signer = Signer(await cookie_key(context.sessions, secret))  # the unsubscribe links'
    url = settings.smtp_url.get_secret_value()
    return Mailer(url, settings.smtp_from, str(settings.public_url), signer, context.form)


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
