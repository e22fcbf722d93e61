"""What the bot writes: sendMessage, the edits, deleteMessage, answerCallbackQuery, and
any other method that makes a message; refused as Telegram refuses them."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from .markup import inline_markup_for_message, valid_entities, validate_reply_markup
from .records import (
    BotMessage,
    ButtonPress,
    CallbackAnswer,
    Json,
    StoredFile,
    StoredMessage,
    describe_message,
)
from .spec import ApiError, BotApiSpec, MethodSpec, bad_request
from .text import EntityParseError, UnsupportedParseModeError, format_text
from .updates import Updates
from .users import FakeUser

_SPEC = BotApiSpec.load()
MAX_MESSAGE_LENGTH = _SPEC.limit("sendMessage", "text").high
MAX_CAPTION_LENGTH = _SPEC.limit("sendPhoto", "caption").high
MAX_CALLBACK_ANSWER_LENGTH = _SPEC.limit("answerCallbackQuery", "text").high

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
_QUERY_ID_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


class Messages(Updates):
    """The messages the bot sends and edits, kept in each chat as Telegram keeps them."""

    def __init__(self) -> None:
        super().__init__()
        self._queries: dict[str, ButtonPress] = {}
        self._handlers.update(
            {
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
            }
        )

    def _format(self, text: Any, parse_mode: Any, entities: Any) -> tuple[str, list[Json]]:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if entities is not None and not valid_entities(entities):
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
        document: StoredFile | None = None,
        photo: StoredFile | None = None,
    ) -> StoredMessage:
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
        inline = inline_markup_for_message(markup)
        if inline is not None:
            message["reply_markup"] = inline
        stored = StoredMessage(json=message, from_bot=True, document=document, photo=photo)
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
        self, chat: FakeUser, stored: StoredMessage, method: str, *, edited: bool
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
        self, chat: FakeUser, stored: StoredMessage, method: str, params: Json, *, edited: bool
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
        line = f"{prefix}: {describe_message(stored.json)}"
        if method not in {"sendMessage", "sendDocument", "sendPhoto"} and not edited:
            line += f" (via {method})"
        chat._emit(output, line)
        return copy.deepcopy(stored.json)

    def _editable(self, chat: FakeUser, params: Json) -> StoredMessage:
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

    async def _send_message(self, params: Json) -> Json:
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        markup = validate_reply_markup(params.get("reply_markup"))
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
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=True)
        stored = self._editable(chat, params)
        if "text" not in stored.json:
            raise bad_request("there is no text in the message to edit")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        inline = inline_markup_for_message(markup)
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
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=True)
        stored = self._editable(chat, params)
        if stored.document is None and stored.photo is None:
            raise bad_request("there is no caption in the message to edit")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        inline = inline_markup_for_message(markup)
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
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=True)
        stored = self._editable(chat, params)
        inline = inline_markup_for_message(markup)
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
        self, user: FakeUser, target: StoredMessage, data: str
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


def _is_sending(method: str) -> bool:
    return method.startswith(("send", "copy", "forward"))


def _set_optional(target: Json, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value
