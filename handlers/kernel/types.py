"""The neutral vocabulary between transports and handlers.

A transport turns a platform update into an ``Event`` and delivers ``Reply`` objects;
the handlers never see a platform object. Reply text is a small HTML subset (``<b>``,
``<i>``, ``<code>``) with everything a user typed escaped; the console strips it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from models.tables import Channel


@dataclass(frozen=True)
class Key:
    """What recognises an event a transport hands over again: the core records it with
    the state and the replies, in one transaction, and handles a key once."""

    stream: str  # whose numbers: "telegram:<bot id>", "web:<visitor>"
    number: int  # the update's id; the step of a web page
    # The numbers follow one another (a web page's step): only the one after the last
    # handled is new, any other is a repeat (a reload, the back button, a double tap).
    in_turn: bool = False


@dataclass(frozen=True)
class Event:
    user_id: int
    chat_id: int
    text: str | None = None
    command: str | None = None  # "start" for "/start survey-x", without the slash
    args: str = ""
    callback_data: str | None = None  # a pressed button
    language_code: str | None = None
    display_name: str | None = None
    # The platform's id of the update, unique per bot for a while (not always increasing):
    # an update sent again is recognised by it and handled once.
    update_id: int | None = None
    # The text (or a photo's/file's caption) with its formatting, as Telegram HTML; None
    # where the transport has no formatting (the console): then ``text`` is plain.
    html: str | None = None
    attachment: Attachment | None = None  # a photo, file or sticker … the user sent
    # "private", or "group" / "supergroup" / "channel": the bot answers in private chats only.
    chat_type: str = "private"
    # Where the user is: recorded on the user at first contact.
    channel: Channel = Channel.TELEGRAM
    # What recognises this event sent again (handlers/kernel/outbox.py); None: nothing sends it
    # twice (the console). A Telegram update's is its ``update_id`` in the bot's stream.
    key: Key | None = None

    @classmethod
    def message(
        cls,
        user_id: int,
        chat_id: int,
        text: str,
        language_code: str | None = None,
        display_name: str | None = None,
        update_id: int | None = None,
        *,
        html: str | None = None,
        attachment: Attachment | None = None,
        chat_type: str = "private",
    ) -> Event:
        """An incoming text, split into command and arguments when it is a command."""
        command, args = None, ""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1 and attachment is None:
            head, _, rest = stripped[1:].partition(" ")
            command = head.split("@", 1)[0].lower()  # "/start@patentbot" in groups
            args = rest.strip()
        return cls(
            user_id,
            chat_id,
            text=text,
            command=command,
            args=args,
            language_code=language_code,
            display_name=display_name,
            update_id=update_id,
            html=html,
            attachment=attachment,
            chat_type=chat_type,
        )


@dataclass(frozen=True)
class Attachment:
    """A photo or file a user sent, by the platform's id: it can be sent on without
    downloading it."""

    kind: str  # "photo" | "document" | "other" (a sticker, voice message …: no use, no id)
    file_id: str
    filename: str | None = None


@dataclass(frozen=True)
class Button:
    text: str
    data: str  # at most 64 bytes (Telegram's callback_data limit)


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    caption: str = ""
    # The platform's id of a file it already holds: sent by id, ``content`` is not uploaded.
    file_id: str | None = None


@dataclass(frozen=True)
class Reply:
    text: str = ""
    buttons: Keyboard = ()
    document: Document | None = None
    photo: Document | None = None  # a PNG shown in the chat (a QR code, a chart)
    # Replace the message whose button was pressed (its buttons go) instead of sending.
    edit: bool = False
    # The question also takes typed input, so a typed number is an answer, not a button.
    accepts_text: bool = False


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class RecipientGone(Exception):
    """The user blocked the bot, deleted the account, or the chat does not exist."""


@dataclass(frozen=True)
class Sent:
    """What the platform made of a sent reply (of its last message, when it took several)."""

    message_id: int
    # The platform's id of the photo or file uploaded with it, to send it again by id.
    file_id: str | None = None


class Sender(Protocol):
    """Outgoing traffic that is not a reply (broadcasts, reminders, progress).

    Implementations raise ``RateLimited`` or ``RecipientGone`` instead of platform errors.
    """

    async def send(self, chat_id: int, reply: Reply) -> Sent: ...

    async def edit(self, chat_id: int, message_id: int, reply: Reply) -> None:
        """Replace a sent message's text and buttons; an unchanged message is no error."""
        ...

    async def set_commands(
        self, chat_id: int | None, language_code: str, commands: Sequence[tuple[str, str]]
    ) -> None:
        """The command menu (name, description) in one language ("" = any other), for
        everyone (``chat_id`` None) or for one chat; an empty one removes the chat's own."""
        ...
