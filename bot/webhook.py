"""Webhook mode (WEBHOOK_URL set): Telegram POSTs each update to us instead of being polled.

One small aiohttp server for every framework; a transport hands it a coroutine that handles
one update's JSON. The answer goes back only once the update is handled, and the handler
commits the conversation before it replies: an update cut short by a crash or a SIGKILL is
never confirmed, so Telegram sends it again, and the router recognises a redelivered
update_id. Several processes behind one load balancer can share a database this way
(PostgreSQL); each sets the same webhook and checks the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

HandleUpdate = Callable[[dict[str, Any]], Awaitable[None]]
Receiver = Callable[[web.Request], Awaitable[web.Response]]


def secret_token(settings: Settings) -> str:
    """WEBHOOK_SECRET, or one derived from the token, so that every process agrees on it."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    assert settings.bot_token is not None
    token = settings.bot_token.get_secret_value()
    return hashlib.sha256(f"patentbot webhook {token}".encode()).hexdigest()


def _receiver(handle: HandleUpdate, secret: str) -> Receiver:
    async def receive(request: web.Request) -> web.Response:
        # Anyone can POST to a public URL; only Telegram knows the secret.
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=401)
        try:
            update = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400)
        try:
            await handle(update)
        except Exception:
            # As when polling: a failing update is logged, not sent again and again.
            log.exception("update %s failed", update["update_id"])
        return web.Response()

    return receive


@asynccontextmanager
async def listening(settings: Settings, handle: HandleUpdate) -> AsyncIterator[str]:
    """Serve WEBHOOK_LISTEN until the block ends; yields the secret Telegram must send."""
    assert settings.webhook_url is not None
    secret = secret_token(settings)
    app = web.Application()
    app.router.add_post(settings.webhook_url.path or "/", _receiver(handle, secret))
    runner = web.AppRunner(app, access_log=None)  # the path may be a secret too
    await runner.setup()
    host, port = settings.webhook_listen
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("listening for Telegram's updates on %s:%s", host, port)
        yield secret
    finally:
        await runner.cleanup()
