"""What both Telegram transports read from an update and a sent message.

aiogram and python-telegram-bot name a message's fields as the Bot API does (``photo``,
``document.file_id``, ``from_user.full_name`` …), so the neutral Event is built here once,
from either library's objects, without importing either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from handlers.kernel.outbox import telegram_stream
from handlers.kernel.router import Router
from handlers.kernel.types import Attachment, Event, Key, Reply, Sent

# What the bot takes: the update kinds it subscribes to, polling or by webhook.
ALLOWED_UPDATES = ["message", "callback_query"]

# Content the bot cannot use. Such a message is answered (that it cannot be an answer, or
# broadcast), never silently dropped: a user who sent a sticker must not wait for nothing.
UNUSABLE = (
    "sticker", "voice", "audio", "video", "video_note", "animation",
    "location", "contact", "venue", "poll", "dice",
)  # fmt: skip


def attachment(message: Any) -> Attachment | None:
    if message.photo:
        return Attachment("photo", message.photo[-1].file_id)  # the largest size
    if message.document is not None:
        return Attachment("document", message.document.file_id, message.document.file_name)
    if any(getattr(message, field, None) for field in UNUSABLE):
        return Attachment("other", "")
    return None


def key(bot_id: int, update_id: int) -> Key:
    """What recognises an update Telegram sends again: its id, unique per bot."""
    return Key(telegram_stream(bot_id), update_id)


def message_event(message: Any, update_id: int, html: str | None, bot_id: int) -> Event | None:
    """The Event of an incoming message; None for one there is nothing to answer (no
    sender, no content). ``html``: its text or caption as Telegram HTML (each library
    names that differently)."""
    found = attachment(message)
    user = message.from_user
    if user is None or (message.text is None and found is None):
        return None
    event = Event.message(
        user.id,
        message.chat.id,
        message.text or message.caption or "",
        language_code=user.language_code,
        display_name=user.full_name or None,
        update_id=update_id,
        html=html,
        attachment=found,
        chat_type=str(message.chat.type),
    )
    return dataclasses.replace(event, key=key(bot_id, update_id))


def button_event(query: Any, update_id: int, bot_id: int) -> Event | None:
    """The Event of a pressed inline button; None for one without data or message."""
    if query.data is None or query.message is None:
        return None
    user = query.from_user
    return Event(
        user.id,
        query.message.chat.id,
        callback_data=query.data,
        language_code=user.language_code,
        display_name=user.full_name or None,
        update_id=update_id,
        chat_type=str(query.message.chat.type),
        key=key(bot_id, update_id),
    )


def sent(messages: Sequence[Any]) -> Sent:
    """What the sender reports of a sent reply: the last message, and its file's id."""
    last = messages[-1]
    file_id = (
        last.photo[-1].file_id if last.photo else last.document.file_id if last.document else None
    )
    return Sent(last.message_id, file_id)


async def answer(
    router: Router, event: Event, send: Callable[[list[Reply]], Awaitable[object]]
) -> None:
    """Handle the event and send its replies one by one, in the user's turn, each struck
    off the outbox once it is sent (handlers/kernel/outbox.py ``sent``): after a
    crash the update, sent again, gets those not struck off yet — the one in flight
    again, at worst."""

    async def send_each(replies: list[Reply]) -> None:
        try:
            for i, reply in enumerate(replies):
                await send([reply])
                rest = replies[i + 1 :]
                # An edit of the pressed message may go again unharmed: no commit for it.
                # An "edit" of a typed message is sent as a new one, struck off like any.
                if rest and not (reply.edit and event.callback_data is not None):
                    await router.outbox.sent(event, rest)
        finally:
            # Done (the last one struck off here), or given up: the update is confirmed
            # to Telegram all the same (polling, webhook), so no redelivery asks for more.
            router.outbox.replied(event)

    await router.handle(event, send_each)
