"""What the fake server keeps and hands the test: the calls the bot made, the messages
and files it sent, the button presses and how they were answered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


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
    at: float = field(default_factory=time.monotonic)  # when the server took it

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
        return find_button(self.inline_keyboard, label)

    def __str__(self) -> str:
        return describe_message(self.message, edited=self.edited)


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
class StoredFile:
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
class StoredMessage:
    json: Json
    from_bot: bool
    deleted: bool = False
    document: StoredFile | None = None
    photo: StoredFile | None = None


def inline_keyboard(message: Json) -> list[list[Json]]:
    markup = message.get("reply_markup") or {}
    return [list(row) for row in markup.get("inline_keyboard", [])]


def find_button(keyboard: list[list[Json]], label: str) -> Json | None:
    buttons = [button for row in keyboard for button in row]
    for button in buttons:
        if button.get("text") == label:
            return button
    for button in buttons:
        if button.get("callback_data") == label:
            return button
    return None


def describe_message(message: Json, *, edited: bool = False) -> str:
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
    keyboard = inline_keyboard(message)
    if keyboard:
        rows = " / ".join(" | ".join(str(b.get("text")) for b in row) for row in keyboard)
        parts.append(f"[buttons: {rows}]")
    return " ".join(parts)
