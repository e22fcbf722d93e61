"""The aiogram 3 transport: Telegram updates → Events, Replies → Bot API calls.

Only aiogram's calls and errors: what both Telegram transports share is in
``incoming.py`` (in) and ``outgoing.py`` (out) beside it. No business logic
here: every decision is the router's. Imported only when the bot
runs on Telegram with BOT_FRAMEWORK=aiogram (aiogram costs ~2 s and ~170 MB to import).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from bot.app import Platform
from bot.settings import Settings
from bot.transports.telegram import incoming as telegram_messages
from bot.transports.telegram import polling
from bot.transports.telegram.aiogram_responses import keep_response_models
from bot.transports.telegram.outgoing import (
    Failure,
    Kind,
    Link,
    TelegramSender,
    deliver,
    serve_updates,
)
from handlers.kernel.router import Router
from handlers.kernel.types import Document, Keyboard

# The logger keeps its name from before bot/ had folders: operators' log filters know it.
log = logging.getLogger("bot.telegram_aiogram")


def create_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    keep_response_models()
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(str(settings.bot_api_server).rstrip("/")))
        if settings.bot_api_server
        else AiohttpSession()
    )
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def _markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.data) for b in row]
            for row in keyboard
        ]
    )


def _file(document: Document) -> BufferedInputFile | str:
    if document.file_id:  # already on Telegram's side: no upload
        return document.file_id
    return BufferedInputFile(document.content, filename=document.filename)


class AiogramCalls:
    """The Bot API calls of ``bot/transports/telegram/outgoing.py``, made with aiogram."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard) -> Message:
        return await self.bot.send_message(chat_id, text, reply_markup=_markup(buttons))

    async def send_photo(self, chat_id: int, photo: Document) -> Message:
        return await self.bot.send_photo(chat_id, _file(photo), caption=photo.caption or None)

    async def send_document(self, chat_id: int, document: Document) -> Message:
        file, caption = _file(document), document.caption or None
        return await self.bot.send_document(chat_id, file, caption=caption)

    async def edit_text(self, chat_id: int, message_id: int, text: str, buttons: Keyboard) -> None:
        await self.bot.edit_message_text(
            text=text, chat_id=chat_id, message_id=message_id, reply_markup=_markup(buttons)
        )

    async def set_commands(
        self, chat_id: int | None, language_code: str, commands: Sequence[tuple[str, str]]
    ) -> None:
        scope = None if chat_id is None else BotCommandScopeChat(chat_id=chat_id)
        listed = [BotCommand(command=name, description=text) for name, text in commands]
        await self.bot.set_my_commands(listed, scope=scope, language_code=language_code or None)

    def failure(self, error: Exception) -> Failure | None:
        match error:
            case TelegramRetryAfter():
                return Failure(Kind.RETRY_AFTER, str(error), error.retry_after)
            case TelegramForbiddenError():
                return Failure(Kind.FORBIDDEN, str(error))
            case TelegramNotFound():
                return Failure(Kind.NOT_FOUND, str(error))
            case TelegramBadRequest():
                return Failure(Kind.BAD_REQUEST, str(error))
        return None


def build_dispatcher(router: Router) -> Dispatcher:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def on_message(message: Message, bot: Bot, event_update: Update) -> None:
        event = telegram_messages.message_event(
            message, event_update.update_id, message.html_text, bot.id
        )
        if event is not None:
            calls = AiogramCalls(bot)
            await telegram_messages.answer(
                router, event, lambda replies: deliver(calls, event.chat_id, replies)
            )

    @dispatcher.callback_query()
    async def on_button(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        # Stop the button's spinner at once. A press sent again after a crash was answered
        # already ("query ID is invalid"): it is handled all the same, or its reply is lost.
        with contextlib.suppress(TelegramBadRequest):
            await query.answer()
        event = telegram_messages.button_event(query, event_update.update_id, bot.id)
        if event is not None and query.message is not None:
            pressed = query.message.message_id
            calls = AiogramCalls(bot)
            await telegram_messages.answer(
                router, event, lambda replies: deliver(calls, event.chat_id, replies, pressed)
            )

    return dispatcher


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Link]:
    """The bot, once Telegram has said who it is, until the block ends."""
    bot = create_bot(settings)
    try:
        me = await bot.me()  # asks Telegram once; later calls are cached
        calls = AiogramCalls(bot)

        async def serve(router: Router, handle_signals: bool = True) -> None:
            """Long polling, or a webhook when WEBHOOK_URL is set, until a signal or
            cancellation."""
            dispatcher = build_dispatcher(router)

            def parse(update: dict[str, Any]) -> Update:
                return Update.model_validate(update, context={"bot": bot})

            async def handle(update: Update) -> None:
                await dispatcher.feed_update(bot, update)

            fetch = polling.fetcher(bot.get_updates, request_timeout=polling.POLL_SECONDS + 10)
            await serve_updates(settings, router, bot, fetch, parse, handle, handle_signals)

        yield Link(Platform(TelegramSender(calls), me.username, me.id), serve)
    finally:
        await bot.session.close()
