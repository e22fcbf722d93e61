"""Who the bot talks to: the bot itself, the users and groups a test registers, and the
chat-level methods (getMe, getChat, sendChatAction, the command menus)."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, cast

from .dispatch import Dispatcher
from .groups import FakeGroup
from .records import Json
from .spec import ApiError, bad_request
from .users import FakeUser

if TYPE_CHECKING:
    from .server import FakeBotAPI

_CHAT_NOT_FOUND = "Bad Request: chat not found"

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

_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class Chats(Dispatcher):
    """The bot's identity and the chats it may write to: what every concern above looks up."""

    # Set by FakeBotAPI from its arguments.
    bot_id: int
    bot_username: str
    bot_first_name: str
    strict_chats: bool
    blocked_chat_ids: set[int]
    deactivated_chat_ids: set[int]

    def __init__(self) -> None:
        super().__init__()
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._users: dict[int, FakeUser] = {}
        self._handlers.update(
            {
                "getMe": self._get_me,
                "getChat": self._get_chat,
                "sendChatAction": self._send_chat_action,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
            }
        )

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
            self._whole(),
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
        created = FakeGroup(self._whole(), chat_id, title, kind)
        self._users[chat_id] = created
        return created

    def _whole(self) -> FakeBotAPI:
        # A user talks to the whole server (its messages, files, updates), which every
        # Chats is: FakeBotAPI is the only class built on it.
        return cast("FakeBotAPI", self)

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

    async def _get_me(self, params: Json) -> Json:
        return self.bot_user_json(full=True)

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

    async def _send_chat_action(self, params: Json) -> bool:
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat = self._chat(params, sending=True)
        chat.chat_actions.append(str(action))
        chat._note(f"bot action: {action}")
        return True

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
