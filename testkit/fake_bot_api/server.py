"""A fake Telegram Bot API server for end-to-end tests and benchmarks.

Real bot libraries (aiogram, python-telegram-bot) talk to it over HTTP exactly as they
talk to api.telegram.org, so a test exercises the bot's real request/response path:
serialisation, error handling, retries.  The server refuses what Telegram refuses
(unknown methods, missing parameters, bad HTML, oversized callback data, edits that
change nothing, blocked users, flood limits) with Telegram's own status codes and
wording, and it exposes the conversation to the test as a chat:

    server = FakeBotAPI(token="123456:TEST-TOKEN", bot_username="my_bot")
    await server.start()
    user = server.user(1001, first_name="Li")
    await user.send("/start")
    reply = await user.next_message()
    await user.press("Yes")

Nothing here knows about any particular bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import mimetypes
import re
import secrets
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import aiohttp
from aiohttp import web

from .html import EntityParseError, UnsupportedParseModeError, format_text, utf16_len
from .spec import (
    ApiError,
    BotApiSpec,
    MethodSpec,
    UploadedFile,
    bad_request,
    check_required,
    coerce_params,
)

__all__ = [
    "ApiCall",
    "BotMessage",
    "ButtonPress",
    "CallbackAnswer",
    "FakeBotAPI",
    "FakeGroup",
    "FakeUser",
    "SentFile",
]

Json = dict[str, Any]
_Handler = Callable[[Json], Awaitable[Any]]

_SPEC = BotApiSpec.load()
MAX_MESSAGE_LENGTH = _SPEC.limit("sendMessage", "text").high
MAX_CAPTION_LENGTH = _SPEC.limit("sendPhoto", "caption").high
MAX_CALLBACK_DATA_BYTES = _SPEC.limit("InlineKeyboardButton", "callback_data").high
MAX_CALLBACK_ANSWER_LENGTH = _SPEC.limit("answerCallbackQuery", "text").high
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
_QUERY_ID_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_CHAT_NOT_FOUND = "Bad Request: chat not found"

_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

# Update types Telegram withholds unless a bot asks for them explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_COMMAND_IN_TEXT_RE = re.compile(
    r"(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])"
)
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
    "to delete the webhook first"
)


# --------------------------------------------------------------------------- records


@dataclass
class ApiCall:
    """One request the bot made.  Unpacks as ``method, params``."""

    method: str
    params: Json
    status: int = 0
    response: Json | None = None
    http_method: str = "POST"
    content_type: str = ""
    at: float = field(default_factory=time.monotonic)

    def __iter__(self) -> Iterator[Any]:
        yield self.method
        yield self.params

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        if self.response is None:
            return None
        description = self.response.get("description")
        return description if isinstance(description, str) else None


@dataclass(frozen=True)
class SentFile:
    """A file the bot sent (or re-sent by file_id), with the bytes it uploaded."""

    filename: str | None
    data: bytes
    caption: str | None
    mime_type: str | None
    file_id: str
    file_unique_id: str
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class BotMessage:
    """Something the bot put into a chat: a new message, or an edit (``edited``).

    ``message`` is the Message object as the bot got it back, frozen at that moment;
    ``params`` are the request parameters it sent.
    """

    chat_id: int
    message_id: int
    method: str
    edited: bool
    message: Json
    params: Json
    document: SentFile | None = None
    photo: SentFile | None = None

    @property
    def text(self) -> str | None:
        text = self.message.get("text")
        return text if isinstance(text, str) else None

    @property
    def caption(self) -> str | None:
        caption = self.message.get("caption")
        return caption if isinstance(caption, str) else None

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has ("" for neither)."""
        return self.text or self.caption or ""

    @property
    def entities(self) -> list[Json]:
        entities = self.message.get("entities") or self.message.get("caption_entities")
        return list(entities or [])

    @property
    def parse_mode(self) -> str | None:
        mode = self.params.get("parse_mode")
        return mode if isinstance(mode, str) else None

    @property
    def source_text(self) -> str | None:
        """The text/caption exactly as the bot sent it (markup not yet parsed)."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> Json | None:
        markup = self.params.get("reply_markup")
        if isinstance(markup, dict):
            return markup
        stored = self.message.get("reply_markup")
        return stored if isinstance(stored, dict) else None

    @property
    def inline_keyboard(self) -> list[list[Json]]:
        markup = self.message.get("reply_markup") or {}
        return [list(row) for row in markup.get("inline_keyboard", [])]

    @property
    def buttons(self) -> list[list[str]]:
        """Inline keyboard as rows of button texts."""
        return [[str(b.get("text")) for b in row] for row in self.inline_keyboard]

    @property
    def button_data(self) -> list[list[str | None]]:
        """Inline keyboard as rows of callback_data (None for non-callback buttons)."""
        return [[b.get("callback_data") for b in row] for row in self.inline_keyboard]

    @property
    def keyboard(self) -> list[list[str]]:
        """Reply keyboard (the one under the input field) as rows of texts."""
        markup = self.params.get("reply_markup")
        if not isinstance(markup, dict) or "keyboard" not in markup:
            return []
        return [
            [b if isinstance(b, str) else str(b.get("text")) for b in row]
            for row in markup["keyboard"]
        ]

    @property
    def removes_keyboard(self) -> bool:
        markup = self.params.get("reply_markup")
        return isinstance(markup, dict) and bool(markup.get("remove_keyboard"))

    def button(self, label: str) -> Json | None:
        """The inline button whose text or callback_data equals label."""
        return _find_button(self.inline_keyboard, label)

    def __str__(self) -> str:
        return _describe_message(self.message, edited=self.edited)


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass
class ButtonPress:
    """A button press the test made (the callback_query it sent); see how it was answered."""

    id: str
    data: str
    chat_id: int
    message_id: int
    answer: CallbackAnswer | None = None
    _answered: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def answered(self) -> bool:
        return self.answer is not None

    async def wait_answer(self, timeout: float = 5.0) -> CallbackAnswer:
        try:
            await asyncio.wait_for(self._answered.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the bot did not answer callback query {self.id} "
                f"(data={self.data!r}) within {timeout}s"
            ) from None
        assert self.answer is not None
        return self.answer


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    filename: str | None
    mime_type: str | None
    file_path: str
    width: int | None = None
    height: int | None = None

    def sent(self, caption: str | None) -> SentFile:
        return SentFile(
            filename=self.filename,
            data=self.data,
            caption=caption,
            mime_type=self.mime_type,
            file_id=self.file_id,
            file_unique_id=self.file_unique_id,
            width=self.width,
            height=self.height,
        )

    def document_json(self) -> Json:
        document: Json = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.filename:
            document["file_name"] = self.filename
        if self.mime_type:
            document["mime_type"] = self.mime_type
        document["file_size"] = len(self.data)
        return document

    def photo_size_json(self) -> Json:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 0,
            "height": self.height or 0,
            "file_size": len(self.data),
        }


@dataclass
class _StoredMessage:
    json: Json
    from_bot: bool
    deleted: bool = False
    document: _StoredFile | None = None
    photo: _StoredFile | None = None


@dataclass
class _InjectedError:
    method: str | None
    error: ApiError
    remaining: int
    chat_id: int | str | None


class _Window:
    """Sliding-window limiter: at most `capacity` acquisitions per `span` seconds."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("rate limits must be positive")
        self.per_second = per_second
        # Fractional limits (0.5/s) become one request per 2 s rather than zero.
        self.capacity = max(1, int(per_second))
        self.span = self.capacity / per_second
        self._stamps: deque[float] = deque()

    def try_acquire(self, now: float) -> float | None:
        """Record a request, or return how long until one would be allowed."""
        while self._stamps and self._stamps[0] <= now - self.span:
            self._stamps.popleft()
        if len(self._stamps) >= self.capacity:
            return self._stamps[0] + self.span - now
        self._stamps.append(now)
        return None


# ----------------------------------------------------------------------------- user


class FakeUser:
    """A Telegram user in a private chat with the bot; the test's side of the chat."""

    def __init__(
        self,
        server: FakeBotAPI,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool = False,
    ) -> None:
        self._server = server
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.is_premium = is_premium
        self.chat_actions: list[str] = []
        self.deleted_message_ids: list[int] = []
        self._messages: dict[int, _StoredMessage] = {}
        self._next_message_id = 1
        self._outputs: list[BotMessage] = []
        self._cursor = 0
        self._changed = asyncio.Event()
        self._log: list[str] = []

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def chat_id(self) -> int:
        return self.id

    @property
    def blocked(self) -> bool:
        return self.id in self._server.blocked_chat_ids

    @property
    def transcript(self) -> list[BotMessage]:
        """Everything the bot sent or edited in this chat, in order."""
        return list(self._outputs)

    @property
    def unread(self) -> list[BotMessage]:
        """Bot output the test has not taken with next_message()/collect() yet."""
        return list(self._outputs[self._cursor :])

    @property
    def last_message(self) -> BotMessage | None:
        """The current state of the newest bot message still in the chat."""
        for message_id in sorted(self._messages, reverse=True):
            stored = self._messages[message_id]
            if stored.from_bot and not stored.deleted:
                return self._server._snapshot(self, stored, "current", edited=False)
        return None

    def user_json(self) -> Json:
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        if self.is_premium:
            user["is_premium"] = True
        return user

    def chat_json(self) -> Json:
        chat: Json = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # -- what the user does ---------------------------------------------------------

    async def send(self, text: str, *, reply_to: int | None = None) -> Json:
        """Write a message to the bot; /commands get bot_command entities."""
        message = self._new_message()
        message["text"] = text
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        self._attach_reply(message, reply_to)
        self._store_incoming(message)
        self._log.append(f"user: {text}")
        await self._deliver({"message": copy.deepcopy(message)})
        return message

    async def send_document(
        self,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> Json:
        """Upload a file to the bot (the bot can getFile and download it)."""
        stored = self._server._store_file("document", data, filename, mime_type)
        message = self._new_message()
        message["document"] = stored.document_json()
        if caption:
            message["caption"] = caption
        self._store_incoming(message, document=stored)
        self._log.append(f"user: [document {filename}] {caption or ''}".rstrip())
        await self._deliver({"message": copy.deepcopy(message)})
        return message

    async def send_photo(self, data: bytes, *, caption: str | None = None) -> Json:
        """Send a photo; undecodable bytes are accepted as a 100x100 picture."""
        width, height = _image_size(data) or (100, 100)
        stored = self._server._store_file(
            "photo", data, None, "image/jpeg", width=width, height=height
        )
        message = self._new_message()
        message["photo"] = self._server._photo_sizes(stored)
        if caption:
            message["caption"] = caption
        self._store_incoming(message, photo=stored)
        self._log.append(f"user: [photo] {caption or ''}".rstrip())
        await self._deliver({"message": copy.deepcopy(message)})
        return message

    async def send_sticker(self, emoji: str = "👍") -> Json:
        """Send a sticker (a file on Telegram's side the bot has no use for here)."""
        message = self._new_message()
        message["sticker"] = {
            "file_id": f"CAACAgIAAxkBsticker{self.id}",
            "file_unique_id": f"AgADsticker{self.id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        self._store_incoming(message)
        self._log.append(f"user: [sticker {emoji}]")
        await self._deliver({"message": copy.deepcopy(message)})
        return message

    async def press(
        self,
        label: str,
        *,
        message_id: int | None = None,
        timeout: float = 2.0,
    ) -> ButtonPress:
        """Press an inline button by its text or callback_data.

        Looks at the newest bot message in this chat that has an inline keyboard (or
        the given message_id), waiting up to `timeout` for such a button to appear so
        a test need not sleep between sending and pressing.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            target = (
                self._messages.get(message_id)
                if message_id is not None
                else self._latest_keyboard_message()
            )
            keyboard = _inline_keyboard(target.json) if target and not target.deleted else []
            button = _find_button(keyboard, label)
            if target is not None and button is not None:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._missing_button_report(label, target, keyboard))
            await self._wait_change(remaining)

        data = button.get("callback_data")
        if not isinstance(data, str):
            kinds = [k for k in _INLINE_BUTTON_ACTIONS if button.get(k) is not None]
            raise AssertionError(
                f"button {button.get('text')!r} is a {'/'.join(kinds)} button; pressing "
                "it sends no callback_query to the bot"
            )
        query = self._server._issue_callback_query(self, target, data)
        self._log.append(f"user pressed [{button.get('text')}] (data={data!r})")
        await self._deliver(
            {
                "callback_query": {
                    "id": query.id,
                    "from": self.user_json(),
                    "message": copy.deepcopy(target.json),
                    "chat_instance": self._server._chat_instance(self),
                    "data": data,
                }
            }
        )
        return query

    def block(self, *, notify: bool = False) -> None:
        """Block the bot: sends to this chat get 403 until unblock()."""
        self._server.blocked_chat_ids.add(self.id)
        self._log.append("user blocked the bot")
        if notify:
            self._server._push_member_update(self, old="member", new="kicked")

    def unblock(self, *, notify: bool = False) -> None:
        self._server.blocked_chat_ids.discard(self.id)
        self._log.append("user unblocked the bot")
        if notify:
            self._server._push_member_update(self, old="kicked", new="member")

    # -- what the test reads ----------------------------------------------------------

    async def next_message(self, timeout: float = 5.0) -> BotMessage:
        """The next bot output (message or edit) in this chat not yet consumed."""
        item = await self._next_or_none(timeout)
        if item is None:
            raise AssertionError(
                f"no new message from the bot in chat {self.id} within {timeout}s\n"
                + self.format_transcript()
            )
        return item

    async def collect(
        self,
        until: Callable[[BotMessage], bool] | None = None,
        *,
        count: int | None = None,
        timeout: float = 5.0,
        idle: float = 0.3,
    ) -> list[BotMessage]:
        """Consume several outputs.

        With `until`: up to and including the first output it accepts.  With `count`:
        exactly that many.  With neither: whatever arrives until the chat has been
        quiet for `idle` seconds.  Raises AssertionError if `timeout` runs out first.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        collected: list[BotMessage] = []
        while count is None or len(collected) < count:
            remaining = deadline - loop.time()
            open_ended = until is None and count is None
            item = await self._next_or_none(min(idle, remaining) if open_ended else remaining)
            if item is None:
                if open_ended:
                    return collected
                raise AssertionError(
                    f"collect() timed out after {timeout}s in chat {self.id} with "
                    f"{len(collected)} message(s) collected\n" + self.format_transcript()
                )
            collected.append(item)
            if until is not None and until(item):
                return collected
        return collected

    async def assert_no_message(self, within: float = 0.3) -> None:
        """Fail if the bot sends or edits anything in this chat within `within` s."""
        item = await self._next_or_none(within)
        if item is not None:
            raise AssertionError(
                f"expected silence in chat {self.id}, but the bot sent: {item}\n"
                + self.format_transcript()
            )

    def format_transcript(self) -> str:
        lines = self._log or ["(nothing happened in this chat)"]
        return f"--- chat {self.id} ---\n" + "\n".join(f"  {line}" for line in lines)

    # -- internals ------------------------------------------------------------------

    def _new_message(self) -> Json:
        return {
            "message_id": self._take_message_id(),
            "from": self.user_json(),
            "chat": self.chat_json(),
            "date": int(time.time()),
        }

    def _take_message_id(self) -> int:
        # One sequence per private chat, shared by both sides, like Telegram.
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def _attach_reply(self, message: Json, reply_to: int | None) -> None:
        if reply_to is None:
            return
        original = self._messages.get(reply_to)
        if original is None or original.deleted:
            raise ValueError(f"message {reply_to} does not exist in chat {self.id}")
        replied = copy.deepcopy(original.json)
        replied.pop("reply_to_message", None)
        message["reply_to_message"] = replied

    def _store_incoming(
        self,
        message: Json,
        *,
        document: _StoredFile | None = None,
        photo: _StoredFile | None = None,
    ) -> None:
        self._messages[message["message_id"]] = _StoredMessage(
            json=message, from_bot=False, document=document, photo=photo
        )

    async def _deliver(self, payload: Json) -> None:
        self._server.push_update(payload)
        # Let pollers and the webhook sender run before the test continues.
        await asyncio.sleep(0)

    def _emit(self, output: BotMessage, line: str) -> None:
        self._outputs.append(output)
        self._log.append(line)
        self._signal()

    def _note(self, line: str) -> None:
        self._log.append(line)
        self._signal()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def _next_or_none(self, timeout: float) -> BotMessage | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._cursor >= len(self._outputs):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await self._wait_change(remaining)
        item = self._outputs[self._cursor]
        self._cursor += 1
        return item

    def _latest_keyboard_message(self) -> _StoredMessage | None:
        for message_id in sorted(self._messages, reverse=True):
            stored = self._messages[message_id]
            if stored.from_bot and not stored.deleted and _inline_keyboard(stored.json):
                return stored
        return None

    def _missing_button_report(
        self, label: str, target: _StoredMessage | None, keyboard: list[list[Json]]
    ) -> str:
        if target is None:
            where = "no bot message with an inline keyboard"
        else:
            where = f"message #{target.json['message_id']}"
        available = [
            f"{b.get('text')!r} (data={b.get('callback_data')!r})" for row in keyboard for b in row
        ]
        listing = ", ".join(available) if available else "none"
        return (
            f"no inline button {label!r} in chat {self.id} ({where}); "
            f"available buttons: {listing}\n" + self.format_transcript()
        )


class FakeGroup(FakeUser):
    """A group, supergroup or channel the bot is a member of; members write in it with
    ``send_as`` and press buttons with ``press_as``. Its transcript is what the bot sent
    to the group."""

    def __init__(self, server: FakeBotAPI, chat_id: int, title: str, kind: str) -> None:
        super().__init__(server, chat_id, title)
        self.title = title
        self.kind = kind
        self._speaker: FakeUser | None = None

    def __repr__(self) -> str:
        return f"FakeGroup(id={self.id}, title={self.title!r}, kind={self.kind!r})"

    def user_json(self) -> Json:
        if self._speaker is None:
            raise AssertionError("a group does not write: use send_as(member, …)")
        return self._speaker.user_json()

    def chat_json(self) -> Json:
        return {"id": self.id, "type": self.kind, "title": self.title}

    async def send_as(self, member: FakeUser, text: str) -> Json:
        self._speaker = member
        return await self.send(text)

    async def press_as(self, member: FakeUser, label: str, **kwargs: Any) -> ButtonPress:
        self._speaker = member
        return await self.press(label, **kwargs)

    def bot_said(self, text: str, buttons: list[list[tuple[str, str]]]) -> None:
        """A message with inline buttons the bot sent here before (an older version that
        answered in groups), for members to press."""
        message: Json = {
            "message_id": self._take_message_id(),
            "from": self._server.bot_user_json(),
            "chat": self.chat_json(),
            "date": int(time.time()),
            "text": text,
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": label, "callback_data": data} for label, data in row]
                    for row in buttons
                ]
            },
        }
        self._messages[message["message_id"]] = _StoredMessage(json=message, from_bot=True)


# --------------------------------------------------------------------------- server


class FakeBotAPI:
    """An in-process HTTP server speaking the Telegram Bot API.

    Failure injection: ``rate_limit_per_second`` (global) and
    ``per_chat_limit_per_second`` answer 429 with retry_after for send*/edit*/
    copy*/forward* calls beyond the limit (sendChatAction is not limited);
    ``blocked_chat_ids`` answer 403; with ``strict_chats`` a chat id never registered
    through ``user()`` is "chat not found"; ``fail_next()`` injects any error once.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "fake_test_bot",
        *,
        bot_first_name: str = "Test Bot",
        rate_limit_per_second: float | None = None,
        per_chat_limit_per_second: float | None = None,
        blocked_chat_ids: set[int] | None = None,
        deactivated_chat_ids: set[int] | None = None,
        strict_chats: bool = True,
        latency: float = 0.0,
        record_calls: bool = True,
        spec_path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1
        self.rate_limit_per_second = rate_limit_per_second
        self.per_chat_limit_per_second = per_chat_limit_per_second
        self.blocked_chat_ids: set[int] = set(blocked_chat_ids or ())
        self.deactivated_chat_ids: set[int] = set(deactivated_chat_ids or ())
        self.strict_chats = strict_chats
        self.latency = latency
        self.record_calls = record_calls
        self.host = host
        self.port = port
        self.spec = BotApiSpec.load(spec_path)

        self.calls: list[ApiCall] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.rate_limited_count = 0

        self._users: dict[int, FakeUser] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._queries: dict[str, ButtonPress] = {}
        self._pending: list[Json] = []
        # The id of the next update. Telegram counts up, but picks it at random after a
        # week without updates, and a new bot token starts afresh: tests may set it.
        self.next_update_id = 1
        self.updates: list[Json] = []  # every update queued, in order (see redeliver)
        self._allowed_updates: list[str] | None = None
        self._updates_changed = asyncio.Event()
        self._poll_generation = 0
        self._webhook: Json | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_last_error: tuple[int, str] | None = None
        self._global_window: _Window | None = None
        self._chat_windows: dict[Any, _Window] = {}
        self._injected: list[_InjectedError] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = False
        self._handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._always_true,
            "close": self._always_true,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
        }

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotAPI is already running")
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # A short shutdown grace: long polls are woken on stop(), nothing else lingers.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._closing = True
        self._notify_updates()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, for aiogram's TelegramAPIServer.from_base."""
        if self._base_url is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """``<base_url>/bot<token>``: the prefix of every method URL."""
        return f"{self.base_url}/bot{self.token}"

    # -- test-side API --------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool = False,
    ) -> FakeUser:
        """Register a user and their private chat with the bot.

        Calling it again with the same id returns the existing user unchanged.
        """
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        user = FakeUser(
            self,
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        self._users[user_id] = user
        return user

    @property
    def users(self) -> list[FakeUser]:
        return list(self._users.values())

    def group(self, chat_id: int, title: str = "Test Group", *, kind: str = "group") -> FakeGroup:
        """Register a group (negative id; ``kind`` group, supergroup or channel) the bot is in."""
        existing = self._users.get(chat_id)
        if isinstance(existing, FakeGroup):
            return existing
        if chat_id >= 0 or existing is not None:
            raise ValueError(f"a group's id is negative and its own, not {chat_id}")
        created = FakeGroup(self, chat_id, title, kind)
        self._users[chat_id] = created
        return created

    def bot_user_json(self, *, full: bool = False) -> Json:
        user: Json = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }
        if full:
            # Only getMe reveals these bot capabilities, as in the real API.
            user.update(
                can_join_groups=True,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user

    def push_update(self, payload: Json) -> Json:
        """Queue a raw update (``{"message": {...}}`` etc.); update_id is assigned."""
        update = {"update_id": self.next_update_id, **payload}
        self.next_update_id += 1
        self.updates.append(update)
        self._pending.append(update)
        self._notify_updates()
        return update

    def redeliver(self, update: Json) -> None:
        """Queue an update again, as Telegram does with one it has not seen confirmed
        (the bot crashed before confirming it, or its webhook did not answer 2xx)."""
        self._pending.append(copy.deepcopy(update))
        self._notify_updates()

    def expire_pending(self) -> None:
        """Time passes: Telegram keeps an unconfirmed update for 24 hours only."""
        self._pending.clear()

    @property
    def pending_updates(self) -> list[Json]:
        """Updates the bot has not confirmed yet (via offset or webhook 2xx)."""
        return list(self._pending)

    async def wait_updates_consumed(self, timeout: float = 5.0) -> None:
        """Wait until the bot confirmed every queued update.

        Confirmation means fetched (a later getUpdates offset), not handled.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._pending:
            if loop.time() >= deadline:
                raise AssertionError(
                    f"{len(self._pending)} update(s) still unconfirmed after {timeout}s"
                )
            await asyncio.sleep(0.01)

    def calls_to(self, method: str) -> list[Json]:
        """Parameters of every call to `method` (case-insensitive), in order."""
        wanted = method.lower()
        return [call.params for call in self.calls if call.method.lower() == wanted]

    def fail_next(
        self,
        method: str | None = None,
        *,
        error_code: int = 500,
        description: str = "Internal Server Error",
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next `times` matching calls with this error instead."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if error_code == 429 and description == "Internal Server Error":
            description = f"Too Many Requests: retry after {retry_after}"
        self._injected.append(
            _InjectedError(
                method=method.lower() if method else None,
                error=ApiError(error_code, description, retry_after=retry_after),
                remaining=times,
                chat_id=chat_id,
            )
        )

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    # -- HTTP -----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        token = request.match_info["token"]
        name = request.match_info["method"]
        if token != self.token:
            body = ApiError(401, "Unauthorized").to_json()
            if self.record_calls:
                self.calls.append(ApiCall(name, {}, status=401, response=body))
            return self._json_response(401, body)
        try:
            raw, uploads = await _read_parameters(request)
        except ApiError as error:
            return self._json_response(error.error_code, error.to_json())
        status, body = await self._dispatch(
            name,
            raw,
            uploads,
            http_method=request.method,
            content_type=request.content_type,
        )
        return self._json_response(status, body)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json_response(401, ApiError(401, "Unauthorized").to_json())
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._json_response(404, ApiError(404, "Not Found").to_json())
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
        )

    async def _handle_unknown_path(self, request: web.Request) -> web.StreamResponse:
        return self._json_response(404, ApiError(404, "Not Found").to_json())

    @staticmethod
    def _json_response(status: int, body: Json) -> web.Response:
        return web.Response(
            status=status,
            text=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
        )

    async def _dispatch(
        self,
        name: str,
        raw: Json,
        uploads: dict[str, UploadedFile],
        *,
        http_method: str = "POST",
        content_type: str = "",
    ) -> tuple[int, Json]:
        method = self.spec.method(name)
        call = ApiCall(
            method=method.name if method else name,
            params=dict(raw),
            http_method=http_method,
            content_type=content_type,
        )
        if self.record_calls:
            self.calls.append(call)
        try:
            if method is None:
                raise ApiError(404, "Not Found")
            params = coerce_params(method, raw, uploads)
            call.params = params
            self._check_required(method, params)
            self._raise_injected(method.name, params)
            if _is_rate_limited(method.name):
                self._check_rate_limits(params.get("chat_id"))
            handler = self._handlers.get(method.name)
            if handler is not None:
                result = await handler(params)
            else:
                result = await self._generic_method(method, params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            if error.error_code == 429:
                self.rate_limited_count += 1
            status, body = error.error_code, error.to_json()
        call.status = status
        call.response = body
        return status, body

    def _check_required(self, method: MethodSpec, params: Json) -> None:
        if method.name == "setWebhook" and params.get("url") == "":
            return  # an empty url is how setWebhook removes the webhook
        check_required(method, params)

    def _raise_injected(self, method: str, params: Json) -> None:
        for injected in self._injected:
            if injected.method not in (None, method.lower()):
                continue
            if injected.chat_id is not None and injected.chat_id != params.get("chat_id"):
                continue
            injected.remaining -= 1
            if injected.remaining <= 0:
                self._injected.remove(injected)
            raise injected.error

    def _check_rate_limits(self, chat_id: Any) -> None:
        now = time.monotonic()
        if self.rate_limit_per_second is not None:
            window = self._global_window
            # Limits may be changed on a running server; a new limit starts afresh.
            if window is None or window.per_second != self.rate_limit_per_second:
                window = self._global_window = _Window(self.rate_limit_per_second)
            wait = window.try_acquire(now)
            if wait is not None:
                raise _too_many_requests(wait)
        if self.per_chat_limit_per_second is not None and chat_id is not None:
            chat_window = self._chat_windows.get(chat_id)
            if chat_window is None or chat_window.per_second != self.per_chat_limit_per_second:
                chat_window = _Window(self.per_chat_limit_per_second)
                self._chat_windows[chat_id] = chat_window
            wait = chat_window.try_acquire(now)
            if wait is not None:
                raise _too_many_requests(wait)

    # -- chats ------------------------------------------------------------------------

    def _chat(self, params: Json, *, sending: bool = False) -> FakeUser:
        value = params.get("chat_id")
        if not isinstance(value, int) or isinstance(value, bool):
            # @username works only for public groups and channels, which this fake
            # does not host, so any string is an unknown chat.
            raise ApiError(400, _CHAT_NOT_FOUND)
        chat = self._users.get(value)
        if chat is None:
            if self.strict_chats or value <= 0:
                raise ApiError(400, _CHAT_NOT_FOUND)
            chat = self.user(value)
        if sending:
            if value in self.blocked_chat_ids:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if value in self.deactivated_chat_ids:
                raise ApiError(403, "Forbidden: user is deactivated")
        return chat

    def _chat_instance(self, user: FakeUser) -> str:
        return str(-(abs(user.id) * 1_000_003 + self.bot_id) % 10**18)

    def _push_member_update(self, user: FakeUser, *, old: str, new: str) -> None:
        bot = self.bot_user_json()
        self.push_update(
            {
                "my_chat_member": {
                    "chat": user.chat_json(),
                    "from": user.user_json(),
                    "date": int(time.time()),
                    "old_chat_member": _member(old, bot),
                    "new_chat_member": _member(new, bot),
                }
            }
        )

    # -- messages ---------------------------------------------------------------------

    def _format(self, text: Any, parse_mode: Any, entities: Any) -> tuple[str, list[Json]]:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if entities is not None and not _valid_entities(entities):
            raise ApiError(400, "Bad Request: can't parse entities JSON object")
        try:
            parsed = format_text(
                text,
                parse_mode if isinstance(parse_mode, str) else None,
                entities if isinstance(entities, list) else None,
            )
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        except UnsupportedParseModeError:
            raise bad_request("unsupported parse_mode") from None
        return parsed.text, parsed.entities

    def _new_bot_message(
        self,
        chat: FakeUser,
        content: Json,
        markup: Json | None,
        params: Json,
        *,
        document: _StoredFile | None = None,
        photo: _StoredFile | None = None,
    ) -> _StoredMessage:
        # Resolve the reply first: a refused send must not use up a message id.
        reply_to = self._reply_target(chat, params)
        message: Json = {
            "message_id": chat._take_message_id(),
            "from": self.bot_user_json(),
            "chat": chat.chat_json(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        inline = _inline_markup_for_message(markup)
        if inline is not None:
            message["reply_markup"] = inline
        stored = _StoredMessage(json=message, from_bot=True, document=document, photo=photo)
        chat._messages[message["message_id"]] = stored
        return stored

    def _reply_target(self, chat: FakeUser, params: Json) -> Json | None:
        reply_parameters = params.get("reply_parameters")
        message_id: Any = params.get("reply_to_message_id")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow_missing = bool(reply_parameters.get("allow_sending_without_reply"))
        if not message_id:
            return None
        original = chat._messages.get(message_id) if isinstance(message_id, int) else None
        if original is None or original.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        replied = copy.deepcopy(original.json)
        replied.pop("reply_to_message", None)
        return replied

    def _snapshot(
        self, chat: FakeUser, stored: _StoredMessage, method: str, *, edited: bool
    ) -> BotMessage:
        caption = stored.json.get("caption")
        return BotMessage(
            chat_id=chat.id,
            message_id=int(stored.json["message_id"]),
            method=method,
            edited=edited,
            message=copy.deepcopy(stored.json),
            params={},
            document=stored.document.sent(caption) if stored.document else None,
            photo=stored.photo.sent(caption) if stored.photo else None,
        )

    def _emit(
        self, chat: FakeUser, stored: _StoredMessage, method: str, params: Json, *, edited: bool
    ) -> Json:
        caption = stored.json.get("caption")
        output = BotMessage(
            chat_id=chat.id,
            message_id=int(stored.json["message_id"]),
            method=method,
            edited=edited,
            message=copy.deepcopy(stored.json),
            params=dict(params),
            document=stored.document.sent(caption) if stored.document else None,
            photo=stored.photo.sent(caption) if stored.photo else None,
        )
        prefix = "bot edited" if edited else "bot"
        line = f"{prefix}: {_describe_message(stored.json)}"
        if method not in {"sendMessage", "sendDocument", "sendPhoto"} and not edited:
            line += f" (via {method})"
        chat._emit(output, line)
        return copy.deepcopy(stored.json)

    def _editable(self, chat: FakeUser, params: Json) -> _StoredMessage:
        stored = chat._messages.get(params["message_id"])
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return stored

    def _edit_target(self, params: Json) -> tuple[FakeUser, int]:
        if params.get("inline_message_id"):
            # Inline-mode messages are not hosted by this fake.
            raise bad_request("MESSAGE_ID_INVALID")
        message_id = params.get("message_id")
        if not isinstance(message_id, int) or message_id <= 0:
            raise bad_request("message identifier is not specified")
        if params.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        return self._chat(params), message_id

    # -- method handlers --------------------------------------------------------------

    async def _always_true(self, params: Json) -> bool:
        return True

    async def _get_me(self, params: Json) -> Json:
        return self.bot_user_json(full=True)

    async def _get_updates(self, params: Json) -> list[Json]:
        if self._webhook is not None:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        # A newer poll supersedes an older one still waiting, as in the real API.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()

        offset = params.get("offset")
        if isinstance(offset, int) and offset:
            self._confirm(offset)
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) and limit else 100
        timeout = params.get("timeout")
        timeout = max(timeout, 0) if isinstance(timeout, (int, float)) else 0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._select_updates(limit, self._allowed_updates)
            if batch or self._closing:
                return copy.deepcopy(batch)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            changed = self._updates_changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return []
            if self._poll_generation != generation:
                raise ApiError(409, _CONFLICT_POLL)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        else:
            # A negative offset keeps only the last -offset updates.
            self._pending = self._pending[offset:]

    def _select_updates(self, limit: int, allowed: list[str] | None) -> list[Json]:
        wanted = set(allowed) if allowed else None
        selected: list[Json] = []
        kept: list[Json] = []
        for update in self._pending:
            kind = next((k for k in update if k != "update_id"), "")
            if (wanted is not None and kind not in wanted) or (
                wanted is None and kind in _OPT_IN_UPDATES
            ):
                continue  # updates the bot did not subscribe to are never delivered
            kept.append(update)
            if len(selected) < limit:
                selected.append(update)
        self._pending = kept
        return selected

    def _notify_updates(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    async def _set_webhook(self, params: Json) -> bool:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params)
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        local = re.match(r"^http://(127\.0\.0\.1|localhost)(:\d+)?/", url + "/")
        if url.startswith("http://") and not local:
            # Plain HTTP is allowed only for local test receivers.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret not in (None, "") and not (
            isinstance(secret, str) and _SECRET_TOKEN_RE.fullmatch(secret)
        ):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        allowed = params.get("allowed_updates")
        self._webhook = {
            "url": url,
            "secret_token": secret or None,
            "max_connections": params.get("max_connections") or 40,
            "allowed_updates": [str(k) for k in allowed] if isinstance(allowed, list) else None,
        }
        if isinstance(allowed, list):
            self._allowed_updates = [str(k) for k in allowed]
        self._webhook_last_error = None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        self._notify_updates()
        return True

    async def _delete_webhook(self, params: Json) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        return True

    async def _get_webhook_info(self, params: Json) -> Json:
        info: Json = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
            if self._webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        if self._webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _deliver_webhooks(self) -> None:
        """POST pending updates to the webhook as Telegram does: up to max_connections at
        once, one at a time and in order per chat; a 2xx confirms one."""
        in_flight: dict[int, asyncio.Task[None]] = {}  # update_id → its delivery
        busy_chats: set[int | None] = set()
        async with aiohttp.ClientSession() as session:
            try:
                while (webhook := self._webhook) is not None and not self._closing:
                    changed = self._updates_changed
                    waiting = self._select_updates(len(self._pending), self._allowed_updates)
                    for update in waiting:
                        if len(in_flight) >= webhook["max_connections"]:
                            break
                        chat = _chat_of(update)
                        if update["update_id"] in in_flight or chat in busy_chats:
                            busy_chats.add(chat)  # nothing later of this chat overtakes it
                            continue
                        busy_chats.add(chat)
                        in_flight[update["update_id"]] = asyncio.create_task(
                            self._post_update(session, webhook, update)
                        )
                    done = [uid for uid, task in in_flight.items() if task.done()]
                    for uid in done:
                        in_flight.pop(uid).result()
                    # After the finished ones are gone: a chat whose post just failed is
                    # free again, or its retry would wait for some other update to come.
                    busy_chats = {_chat_of(u) for u in waiting if u["update_id"] in in_flight}
                    if not done:
                        await changed.wait()
            finally:
                for task in in_flight.values():
                    task.cancel()
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    async def _post_update(
        self, session: aiohttp.ClientSession, webhook: Json, update: Json
    ) -> None:
        headers: dict[str, str] = {}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        try:
            try:
                async with session.post(
                    webhook["url"],
                    json=update,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    body = await response.read()
                    if not 200 <= response.status < 300:
                        raise _WebhookFailure(
                            f"Wrong response from the webhook: {response.status} {response.reason}"
                        )
            except (aiohttp.ClientError, TimeoutError, _WebhookFailure) as error:
                message = (
                    str(error)
                    if isinstance(error, _WebhookFailure)
                    else f"Connection failed: {type(error).__name__}"
                )
                self._webhook_last_error = (int(time.time()), message)
                await asyncio.sleep(0.2)  # then it is posted again
                return
            self._pending = [u for u in self._pending if u is not update]
            await self._run_webhook_reply(body)
        finally:
            self._notify_updates()  # a connection is free, or the chat's next may go

    async def _run_webhook_reply(self, body: bytes) -> None:
        # A webhook may answer with a method call; Telegram executes it.
        try:
            reply = json.loads(body) if body else None
        except ValueError:
            return
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            params = {k: v for k, v in reply.items() if k != "method"}
            await self._dispatch(reply["method"], params, {}, content_type="webhook-reply")

    async def _set_my_commands(self, params: Json) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _BOT_COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = (self._scope_key(params.get("scope")), self._language(params))
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)  # an empty list deletes, like the real API
        return True

    async def _get_my_commands(self, params: Json) -> list[dict[str, str]]:
        key = (self._scope_key(params.get("scope")), self._language(params))
        return copy.deepcopy(self.commands.get(key, []))

    async def _delete_my_commands(self, params: Json) -> bool:
        key = (self._scope_key(params.get("scope")), self._language(params))
        self.commands.pop(key, None)
        return True

    def _scope_key(self, scope: Any) -> str:
        if scope is None or scope == "":
            return "default"
        if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = str(scope["type"])
        if kind in {"chat", "chat_administrators", "chat_member"}:
            chat = self._chat(scope)
            if kind == "chat_member":
                user_id = scope.get("user_id")
                if not isinstance(user_id, int):
                    raise bad_request("invalid user_id specified")
                return f"{kind}:{chat.id}:{user_id}"
            return f"{kind}:{chat.id}"
        return kind

    @staticmethod
    def _language(params: Json) -> str:
        language = params.get("language_code") or ""
        if language and not (
            isinstance(language, str)
            and len(language) == 2
            and language.isascii()
            and language.isalpha()
        ):
            raise bad_request("invalid language code specified")
        return str(language).lower()

    async def _send_message(self, params: Json) -> Json:
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        markup = _validate_reply_markup(params.get("reply_markup"))
        chat = self._chat(params, sending=True)
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        content: Json = {"text": text}
        if entities:
            content["entities"] = entities
        stored = self._new_bot_message(chat, content, markup, params)
        return self._emit(chat, stored, "sendMessage", params, edited=False)

    async def _edit_message_text(self, params: Json) -> Json:
        chat, _ = self._edit_target(params)
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise bad_request("message text is empty")
        markup = _validate_reply_markup(params.get("reply_markup"), inline_only=True)
        stored = self._editable(chat, params)
        if "text" not in stored.json:
            raise bad_request("there is no text in the message to edit")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        inline = _inline_markup_for_message(markup)
        if (
            stored.json.get("text") == text
            and stored.json.get("entities", []) == entities
            and stored.json.get("reply_markup") == inline
        ):
            raise ApiError(400, _NOT_MODIFIED)
        stored.json["text"] = text
        _set_optional(stored.json, "entities", entities or None)
        # Omitting reply_markup in an edit removes the keyboard, as on Telegram.
        _set_optional(stored.json, "reply_markup", inline)
        stored.json["edit_date"] = int(time.time())
        return self._emit(chat, stored, "editMessageText", params, edited=True)

    async def _edit_message_caption(self, params: Json) -> Json:
        chat, _ = self._edit_target(params)
        caption, entities = self._format(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        markup = _validate_reply_markup(params.get("reply_markup"), inline_only=True)
        stored = self._editable(chat, params)
        if stored.document is None and stored.photo is None:
            raise bad_request("there is no caption in the message to edit")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        inline = _inline_markup_for_message(markup)
        if (
            (stored.json.get("caption") or "") == caption
            and stored.json.get("caption_entities", []) == entities
            and stored.json.get("reply_markup") == inline
        ):
            raise ApiError(400, _NOT_MODIFIED)
        _set_optional(stored.json, "caption", caption or None)
        _set_optional(stored.json, "caption_entities", entities or None)
        _set_optional(stored.json, "reply_markup", inline)
        stored.json["edit_date"] = int(time.time())
        return self._emit(chat, stored, "editMessageCaption", params, edited=True)

    async def _edit_message_reply_markup(self, params: Json) -> Json:
        chat, _ = self._edit_target(params)
        markup = _validate_reply_markup(params.get("reply_markup"), inline_only=True)
        stored = self._editable(chat, params)
        inline = _inline_markup_for_message(markup)
        if stored.json.get("reply_markup") == inline:
            raise ApiError(400, _NOT_MODIFIED)
        _set_optional(stored.json, "reply_markup", inline)
        stored.json["edit_date"] = int(time.time())
        return self._emit(chat, stored, "editMessageReplyMarkup", params, edited=True)

    async def _delete_message(self, params: Json) -> bool:
        message_id = params.get("message_id")
        if not isinstance(message_id, int) or message_id <= 0:
            raise bad_request("message identifier is not specified")
        chat = self._chat(params)
        stored = chat._messages.get(message_id)
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        stored.deleted = True
        chat.deleted_message_ids.append(message_id)
        chat._note(f"bot deleted message #{message_id}")
        return True

    async def _answer_callback_query(self, params: Json) -> bool:
        query = self._queries.get(str(params.get("callback_query_id")))
        if query is None or query.answered:
            raise ApiError(400, _QUERY_ID_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        cache_time = params.get("cache_time")
        query.answer = CallbackAnswer(
            text=text if isinstance(text, str) and text else None,
            show_alert=bool(params.get("show_alert")),
            url=params.get("url") or None,
            cache_time=cache_time if isinstance(cache_time, int) else 0,
        )
        query._answered.set()
        chat = self._users.get(query.chat_id)
        if chat is not None:
            shown = "alert" if query.answer.show_alert else "toast"
            detail = f" {shown} {query.answer.text!r}" if query.answer.text else ""
            chat._note(f"bot answered callback (data={query.data!r}){detail}")
        return True

    def _issue_callback_query(
        self, user: FakeUser, target: _StoredMessage, data: str
    ) -> ButtonPress:
        query_id = str(secrets.randbits(62))
        while query_id in self._queries:
            query_id = str(secrets.randbits(62))
        query = ButtonPress(
            id=query_id,
            data=data,
            chat_id=user.id,
            message_id=int(target.json["message_id"]),
        )
        self._queries[query_id] = query
        return query

    async def _send_document(self, params: Json) -> Json:
        return await self._send_media("document", params)

    async def _send_photo(self, params: Json) -> Json:
        return await self._send_media("photo", params)

    async def _send_media(self, kind: str, params: Json) -> Json:
        caption, entities = self._format(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        markup = _validate_reply_markup(params.get("reply_markup"))
        chat = self._chat(params, sending=True)
        stored_file = self._input_file(kind, params.get(kind))
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        content: Json = {}
        if kind == "photo":
            content["photo"] = self._photo_sizes(stored_file)
        else:
            content["document"] = stored_file.document_json()
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        stored = self._new_bot_message(
            chat,
            content,
            markup,
            params,
            document=stored_file if kind == "document" else None,
            photo=stored_file if kind == "photo" else None,
        )
        method = "sendPhoto" if kind == "photo" else "sendDocument"
        return self._emit(chat, stored, method, params, edited=False)

    def _input_file(self, kind: str, value: Any) -> _StoredFile:
        if isinstance(value, UploadedFile):
            if kind == "photo":
                size = _image_size(value.data)
                if size is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                # Telegram re-encodes photos to JPEG and drops the file name.
                return self._store_file(
                    "photo", value.data, None, "image/jpeg", width=size[0], height=size[1]
                )
            return self._store_file(kind, value.data, value.filename, value.content_type)
        if isinstance(value, str) and value:
            existing = self._files.get(value)
            if existing is not None:
                if existing.kind != kind:
                    raise bad_request(
                        f"can't use file of type {existing.kind.title()} as {kind.title()}"
                    )
                return existing
            if re.match(r"^https?://", value):
                # No internet here: a URL becomes an empty file named after its path.
                name = PurePosixPath(value.split("?", 1)[0]).name or "file"
                if kind == "photo":
                    return self._store_file("photo", b"", name, "image/jpeg", width=1, height=1)
                return self._store_file(kind, b"", name, None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _store_file(
        self,
        kind: str,
        data: bytes,
        filename: str | None,
        mime_type: str | None,
        *,
        width: int | None = None,
        height: int | None = None,
    ) -> _StoredFile:
        number = next(self._file_counter)
        if not mime_type or mime_type == "application/octet-stream":
            guessed = mimetypes.guess_type(filename or "")[0]
            mime_type = guessed or mime_type or "application/octet-stream"
        suffix = PurePosixPath(filename or "").suffix or (
            mimetypes.guess_extension(mime_type or "") or ""
        )
        stored = _StoredFile(
            file_id=f"FAKE{kind[:3].upper()}{number:08d}{secrets.token_hex(6)}",
            file_unique_id=f"AgAD{number:06d}",
            kind=kind,
            data=data,
            filename=filename,
            mime_type=mime_type,
            file_path=f"{kind}s/file_{number}{suffix}",
            width=width,
            height=height,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _photo_sizes(self, stored: _StoredFile) -> list[Json]:
        """A small thumbnail plus the picture itself, like Telegram's size ladder."""
        width, height = stored.width or 0, stored.height or 0
        sizes: list[Json] = []
        if max(width, height) > 90:
            scale = 90 / max(width, height)
            thumb = _StoredFile(
                file_id=stored.file_id + "s",
                file_unique_id=stored.file_unique_id + "s",
                kind="photo",
                data=stored.data,
                filename=stored.filename,
                mime_type=stored.mime_type,
                file_path=stored.file_path.replace("file_", "thumb_", 1),
                width=max(1, round(width * scale)),
                height=max(1, round(height * scale)),
            )
            self._files[thumb.file_id] = thumb
            self._files_by_path[thumb.file_path] = thumb
            sizes.append(thumb.photo_size_json())
        sizes.append(stored.photo_size_json())
        return sizes

    async def _get_file(self, params: Json) -> Json:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _send_chat_action(self, params: Json) -> bool:
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat = self._chat(params, sending=True)
        chat.chat_actions.append(str(action))
        chat._note(f"bot action: {action}")
        return True

    async def _get_chat(self, params: Json) -> Json:
        chat = self._chat(params)
        info = chat.chat_json()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        return info

    async def _generic_method(self, method: MethodSpec, params: Json) -> Any:
        """Methods without dedicated behaviour: validate the chat, then succeed."""
        chat: FakeUser | None = None
        chat_field = method.field("chat_id")
        if chat_field is not None and "chat_id" in params:
            chat = self._chat(params, sending=_is_sending(method.name))
        if method.returns == ("Message",) and chat is not None:
            # Clients parse the result as a Message, so `true` would break them.
            stored = self._new_bot_message(chat, {}, None, params)
            return self._emit(chat, stored, method.name, params, edited=False)
        if method.returns == ("MessageId",) and chat is not None:
            stored = self._new_bot_message(chat, {}, None, params)
            self._emit(chat, stored, method.name, params, edited=False)
            return {"message_id": stored.json["message_id"]}
        return True


def _chat_of(update: Json) -> int | None:
    """The chat an update belongs to (Telegram delivers one chat's updates in order)."""
    for kind in ("message", "edited_message", "callback_query"):
        body = update.get(kind)
        if isinstance(body, dict):
            message = body.get("message", body) if kind == "callback_query" else body
            chat = message.get("chat") if isinstance(message, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


class _WebhookFailure(Exception):
    pass


# -------------------------------------------------------------------------- helpers


async def _read_parameters(request: web.Request) -> tuple[Json, dict[str, UploadedFile]]:
    """Collect parameters from the query string and any supported body encoding."""
    raw: Json = {key: request.query[key] for key in request.query}
    uploads: dict[str, UploadedFile] = {}
    if request.method not in {"POST", "PUT"} or not request.can_read_body:
        return raw, uploads
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if isinstance(body, dict):
            raw.update(body)
    elif content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        for key in form:
            value = form[key]
            if isinstance(value, web.FileField):
                uploads[key] = UploadedFile(
                    field=key,
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
            elif isinstance(value, (bytes, bytearray)):
                raw[key] = bytes(value).decode("utf-8", errors="replace")
            else:
                raw[key] = value
    return raw, uploads


def _is_rate_limited(method: str) -> bool:
    return method != "sendChatAction" and method.startswith(("send", "edit", "copy", "forward"))


def _is_sending(method: str) -> bool:
    return method.startswith(("send", "copy", "forward"))


def _too_many_requests(wait: float) -> ApiError:
    retry_after = max(1, math.ceil(wait))
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def _member(status: str, user: Json) -> Json:
    member: Json = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    return member


def _valid_entities(entities: Any) -> bool:
    if not isinstance(entities, list):
        return False
    return all(
        isinstance(e, dict)
        and isinstance(e.get("type"), str)
        and isinstance(e.get("offset"), int)
        and isinstance(e.get("length"), int)
        for e in entities
    )


def _validate_reply_markup(markup: Any, *, inline_only: bool = False) -> Json | None:
    """Refuse keyboards Telegram refuses; returns the markup as given."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in rows:
            for button in row:
                text = (
                    button
                    if isinstance(button, str)
                    else (button.get("text") if isinstance(button, dict) else None)
                )
                if not isinstance(text, str) or not text:
                    raise bad_request(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")


def _validate_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    total = 0
    for row in rows:
        for button in row:
            total += 1
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            text = button.get("text")
            if not isinstance(text, str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not text.strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            actions = [
                key
                for key in _INLINE_BUTTON_ACTIONS
                if button.get(key) is not None and button.get(key) is not False
            ]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in "
                    "the inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    "can't parse inline keyboard button: exactly one of the optional "
                    f"fields must be used, got {', '.join(actions)}"
                )
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and (
                not isinstance(url, str) or not url.strip() or re.search(r"\s", url)
            ):
                raise bad_request("BUTTON_URL_INVALID")
    if total > 100:
        raise bad_request("reply markup is too long")


def _inline_markup_for_message(markup: Json | None) -> Json | None:
    """The reply_markup a Message carries: only non-empty inline keyboards."""
    if not markup or "inline_keyboard" not in markup:
        return None
    rows = [
        [{k: v for k, v in button.items() if v is not None} for button in row]
        for row in markup["inline_keyboard"]
    ]
    rows = [row for row in rows if row]
    return {"inline_keyboard": rows} if rows else None


def _inline_keyboard(message: Json) -> list[list[Json]]:
    markup = message.get("reply_markup") or {}
    return [list(row) for row in markup.get("inline_keyboard", [])]


def _find_button(keyboard: list[list[Json]], label: str) -> Json | None:
    buttons = [button for row in keyboard for button in row]
    for button in buttons:
        if button.get("text") == label:
            return button
    for button in buttons:
        if button.get("callback_data") == label:
            return button
    return None


def _set_optional(target: Json, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _describe_message(message: Json, *, edited: bool = False) -> str:
    parts: list[str] = [f"#{message.get('message_id')}"]
    if edited:
        parts.append("(edited)")
    document = message.get("document")
    if isinstance(document, dict):
        parts.append(f"[document {document.get('file_name', '')}]")
    if message.get("photo"):
        parts.append("[photo]")
    content = message.get("text") or message.get("caption")
    if content:
        parts.append(repr(content) if len(content) <= 300 else repr(content[:300] + "…"))
    keyboard = _inline_keyboard(message)
    if keyboard:
        rows = " / ".join(" | ".join(str(b.get("text")) for b in row) for row in keyboard)
        parts.append(f"[buttons: {rows}]")
    return " ".join(parts)


def _command_entities(text: str) -> list[Json]:
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND_IN_TEXT_RE.finditer(text)
    ]


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image, else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in {b"GIF87a", b"GIF89a"} and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            height = 1 + int.from_bytes(data[27:30], "little")
            return width, height
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return int(width) & 0x3FFF, int(height) & 0x3FFF
        if chunk == b"VP8L":
            b = data[21:25]
            width = 1 + (((b[1] & 0x3F) << 8) | b[0])
            height = 1 + (((b[3] & 0xF) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
            return width, height
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    start_of_frame = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in start_of_frame:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        if marker in {0xD8, 0x01} or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + int(length)
    return None
