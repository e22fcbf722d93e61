"""A group, supergroup or channel the bot is in, for the tests that check it answers only
in private chats."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .records import ButtonPress, Json, StoredMessage
from .users import FakeUser

if TYPE_CHECKING:
    from .server import FakeBotAPI


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
        self._messages[message["message_id"]] = StoredMessage(json=message, from_bot=True)
