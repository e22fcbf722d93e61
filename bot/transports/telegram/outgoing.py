"""The half of the two Telegram transports that does not depend on the library: replies
sent in order (an ``edit`` rewrites the pressed message), Telegram's errors turned into
the neutral ones, and the serve skeleton (a connected bot: its command menus, broadcasts
delivered, updates polled or taken from the webhook). The incoming half is
``bot/transports/telegram/incoming.py``.

Each framework module (``telegram_aiogram``, ``telegram_ptb``) keeps only its library
calls, as a ``BotCalls``, and how its errors read, as a ``Failure``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from bot.app import Platform, deliveries, until_stopped
from bot.settings import Settings
from bot.transports.telegram import polling, webhook
from bot.transports.telegram.incoming import ALLOWED_UPDATES, sent
from handlers.kernel.command_menu import register_menus
from handlers.kernel.router import Router
from handlers.kernel.types import Document, Keyboard, RateLimited, RecipientGone, Reply, Sent

# The logger keeps its name from before bot/ had folders: operators' log filters know it.
log = logging.getLogger("bot.telegram_out")


class Kind(Enum):
    RETRY_AFTER = "retry_after"  # 429
    FORBIDDEN = "forbidden"  # 403: blocked the bot, deactivated
    NOT_FOUND = "not_found"
    BAD_REQUEST = "bad_request"  # 400: "chat not found", "message is not modified", …


@dataclass(frozen=True)
class Failure:
    """A Telegram error, as the library reported it."""

    kind: Kind
    message: str
    retry_after: float = 0.0

    def says(self, words: str) -> bool:  # the libraries differ in case
        return words in self.message.lower()


class BotCalls(Protocol):
    """One library's Bot API calls (a sent message is the library's object)."""

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard) -> Any: ...

    async def send_photo(self, chat_id: int, photo: Document) -> Any: ...

    async def send_document(self, chat_id: int, document: Document) -> Any: ...

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, buttons: Keyboard
    ) -> None: ...

    async def set_commands(
        self, chat_id: int | None, language_code: str, commands: Sequence[tuple[str, str]]
    ) -> None: ...

    def failure(self, error: Exception) -> Failure | None:
        """What a Telegram error was; None for any other exception."""
        ...


def _failure(calls: BotCalls, error: Exception, *kinds: Kind) -> Failure:
    """The failure, if it is of one of ``kinds``; else the error goes on up."""
    failure = calls.failure(error)
    if failure is None or failure.kind not in kinds:
        raise error
    return failure


async def deliver(
    calls: BotCalls, chat_id: int, replies: Iterable[Reply], pressed: int | None = None
) -> list[Any]:
    """Send replies in order; an ``edit`` reply rewrites the message whose button was pressed."""
    messages: list[Any] = []
    for reply in replies:
        if reply.edit and pressed is not None:
            try:
                await calls.edit_text(chat_id, pressed, reply.text, reply.buttons)
                continue
            except Exception as e:  # too old to edit, or unchanged: send instead
                if _failure(calls, e, Kind.BAD_REQUEST).says("not modified"):
                    continue
        if reply.photo is not None:
            messages.append(await calls.send_photo(chat_id, reply.photo))
        if reply.document is not None:
            messages.append(await calls.send_document(chat_id, reply.document))
        if reply.text:
            messages.append(await calls.send_message(chat_id, reply.text, reply.buttons))
    return messages


class TelegramSender:
    """The neutral sender (broadcasts, command menus): Telegram's errors become
    RateLimited / RecipientGone."""

    def __init__(self, calls: BotCalls) -> None:
        self.calls = calls

    async def send(self, chat_id: int, reply: Reply) -> Sent:
        try:
            return sent(await deliver(self.calls, chat_id, [reply]))
        except Exception as e:
            kinds = (Kind.RETRY_AFTER, Kind.FORBIDDEN, Kind.NOT_FOUND, Kind.BAD_REQUEST)
            failure = _failure(self.calls, e, *kinds)
            if failure.kind is Kind.RETRY_AFTER:
                raise RateLimited(failure.retry_after) from e
            if failure.kind is Kind.BAD_REQUEST and not failure.says("chat not found"):
                raise
            raise RecipientGone(failure.message) from e

    async def edit(self, chat_id: int, message_id: int, reply: Reply) -> None:
        try:
            await self.calls.edit_text(chat_id, message_id, reply.text, reply.buttons)
        except Exception as e:
            kinds = (Kind.RETRY_AFTER, Kind.FORBIDDEN, Kind.BAD_REQUEST)
            failure = _failure(self.calls, e, *kinds)
            if failure.kind is Kind.RETRY_AFTER:
                raise RateLimited(failure.retry_after) from e
            if failure.kind is Kind.FORBIDDEN:
                raise RecipientGone(failure.message) from e
            if not failure.says("not modified"):
                raise

    async def set_commands(
        self, chat_id: int | None, language_code: str, commands: Sequence[tuple[str, str]]
    ) -> None:
        # An empty menu removes the scope's own, as Telegram's deleteMyCommands does.
        try:
            await self.calls.set_commands(chat_id, language_code, commands)
        except Exception as e:  # no chat with the bot (yet)
            failure = _failure(self.calls, e, Kind.BAD_REQUEST, Kind.FORBIDDEN)
            raise RecipientGone(failure.message) from e


@dataclass(frozen=True)
class Link:
    """A bot Telegram has told who it is (its ``platform``, to build the router's context
    with), and how it serves that router until a signal or cancellation."""

    platform: Platform
    serve: Callable[[Router, bool], Awaitable[None]]


async def serve_updates(
    settings: Settings,
    router: Router,
    bot: Any,
    fetch: polling.Fetch,
    parse: webhook.Parse,
    handle: webhook.HandleUpdate,
    handle_signals: bool,
) -> None:
    """Register the command menus, deliver broadcasts in the background, and handle
    updates — long polling, or a webhook when WEBHOOK_URL is set — until a signal or
    cancellation. ``bot`` is the library's, whose webhook calls both libraries spell
    alike."""
    await register_menus(router.context, router.commands)
    username = router.context.bot_username
    async with deliveries(router.context, settings):
        if settings.webhook_url is None:
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("polling Telegram as @%s", username)
            # Not the library's own polling: it confirms a batch before handling it
            # (bot/transports/telegram/polling.py).
            await polling.poll_until_stopped(fetch, handle, handle_signals)
            return
        async with webhook.listening(settings, parse, handle) as secret:
            url, allowed = str(settings.webhook_url), ALLOWED_UPDATES
            await bot.set_webhook(url, secret_token=secret, allowed_updates=allowed)
            log.info("Telegram posts to %s for @%s", settings.webhook_url, username)
            await until_stopped(handle_signals)
