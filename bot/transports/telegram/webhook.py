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
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from bot.logs import quiet_broken_bodies
from bot.settings import Settings

# The logger keeps its name from before bot/ had folders: operators' log filters know it.
log = logging.getLogger("bot.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The updates the bot takes (a message, a pressed button) are a few kilobytes: 4096
# characters of text with their entities and the message replied to. A megabyte is not
# Telegram, and is refused (413) before it is read any further.
MAX_BODY = 1024 * 1024
# Telegram's update ids are positive and fit in 32 bits (the table keeps 64).
MAX_UPDATE_ID = 2**63 - 1

# A transport's two steps: read the library's update from the JSON (raising, whatever the
# library raises, for a body that is none), then handle it.
Parse = Callable[[dict[str, Any]], Any]
HandleUpdate = Callable[[Any], Awaitable[None]]
Receiver = Callable[[web.Request], Awaitable[web.Response]]


def secret_token(settings: Settings) -> str:
    """WEBHOOK_SECRET, or one derived from the token, so that every process agrees on it."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    assert settings.bot_token is not None
    token = settings.bot_token.get_secret_value()
    return hashlib.sha256(f"patentbot webhook {token}".encode()).hexdigest()


class Refusals:
    """Counts refused posts and logs the 1st, 10th, 100th …: a flood of garbage is seen
    in the log without writing one line per post."""

    def __init__(self) -> None:
        self.count = 0

    def note(self, status: int, why: str) -> web.Response:
        self.count += 1
        if self.count == 1 or _power_of_ten(self.count):
            log.warning("refused a webhook post (%s %s); %d so far", status, why, self.count)
        return web.Response(status=status)


def _power_of_ten(n: int) -> bool:
    while n % 10 == 0:
        n //= 10
    return n == 1


def _update_id(update: object) -> int | None:
    """The update's id, or None for JSON that is not an update."""
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    return update_id if 0 <= update_id <= MAX_UPDATE_ID else None


def _receiver(parse: Parse, handle: HandleUpdate, secret: str, refusals: Refusals) -> Receiver:
    async def receive(request: web.Request) -> web.Response:
        # Anyone can POST to a public URL; only Telegram knows the secret.
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return refusals.note(401, "without the secret")
        try:
            body = await request.read()  # raises 413 beyond MAX_BODY (client_max_size)
        except web.HTTPRequestEntityTooLarge:
            return refusals.note(413, "too large")
        except RequestPayloadError:  # a compressed body that does not decompress
            return refusals.note(400, "unreadable")
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):  # not UTF-8 or JSON; nested beyond reason
            return refusals.note(400, "not JSON")
        update_id = _update_id(update)
        if update_id is None:
            return refusals.note(400, "not an update")
        try:
            parsed = parse(update)
        except Exception:  # each library raises its own way on fields of the wrong shape
            return refusals.note(400, "not an update")
        try:
            await handle(parsed)
        except Exception:
            # As when polling: a failing update is logged, not sent again and again.
            log.exception("update %s failed", update_id)
        return web.Response()

    return receive


@asynccontextmanager
async def listening(settings: Settings, parse: Parse, handle: HandleUpdate) -> AsyncIterator[str]:
    """Serve WEBHOOK_LISTEN until the block ends; yields the secret Telegram must send."""
    assert settings.webhook_url is not None
    secret = secret_token(settings)
    quiet_broken_bodies()
    app = web.Application(client_max_size=MAX_BODY)
    receiver = _receiver(parse, handle, secret, Refusals())
    app.router.add_post(settings.webhook_url.path or "/", receiver)
    runner = web.AppRunner(app, access_log=None)  # the path may be a secret too
    await runner.setup()
    host, port = settings.webhook_listen
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("listening for Telegram's updates on %s:%s", host, port)
        yield secret
    finally:
        await runner.cleanup()
