"""The test's side of a chat: a simulated user in a private chat with the bot, who writes,
sends files, presses buttons and reads what the bot sent."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .images import image_size
from .markup import INLINE_BUTTON_ACTIONS, command_entities
from .records import (
    BotMessage,
    ButtonPress,
    Json,
    StoredFile,
    StoredMessage,
    find_button,
    inline_keyboard,
)

if TYPE_CHECKING:
    from .server import FakeBotAPI


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
        self._messages: dict[int, StoredMessage] = {}
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
        entities = command_entities(text)
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
        width, height = image_size(data) or (100, 100)
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
            keyboard = inline_keyboard(target.json) if target and not target.deleted else []
            button = find_button(keyboard, label)
            if target is not None and button is not None:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._missing_button_report(label, target, keyboard))
            await self._wait_change(remaining)

        data = button.get("callback_data")
        if not isinstance(data, str):
            kinds = [k for k in INLINE_BUTTON_ACTIONS if button.get(k) is not None]
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
        document: StoredFile | None = None,
        photo: StoredFile | None = None,
    ) -> None:
        self._messages[message["message_id"]] = StoredMessage(
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

    def _latest_keyboard_message(self) -> StoredMessage | None:
        for message_id in sorted(self._messages, reverse=True):
            stored = self._messages[message_id]
            if stored.from_bot and not stored.deleted and inline_keyboard(stored.json):
                return stored
        return None

    def _missing_button_report(
        self, label: str, target: StoredMessage | None, keyboard: list[list[Json]]
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
