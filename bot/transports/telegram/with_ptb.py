"""The python-telegram-bot (v22) transport: Telegram updates → Events, Replies → Bot API calls.

The twin of ``with_aiogram.py`` beside it: only PTB's calls and errors, what both share being
in ``incoming.py`` (in) and ``outgoing.py`` (out); and like it without
business logic: every decision is the router's. Imported only when the bot runs with
BOT_FRAMEWORK=ptb.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, Defaults, MessageHandler, filters
from telegram.warnings import PTBDeprecationWarning

from bot.app import Platform
from bot.settings import Settings
from bot.transports.telegram import incoming as telegram_messages
from bot.transports.telegram import polling
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
log = logging.getLogger("bot.telegram_ptb")

PtbApplication = Application[Any, Any, Any, Any, Any, Any]


def create_application(settings: Settings) -> PtbApplication:
    """The Application (its bot included), without handlers: see ``add_handlers``."""
    assert settings.bot_token is not None
    builder = (
        Application.builder()
        .token(settings.bot_token.get_secret_value())
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(True)  # the router serialises per user, as with aiogram
    )
    if settings.bot_api_server:
        server = str(settings.bot_api_server).rstrip("/")
        builder = builder.base_url(f"{server}/bot").base_file_url(f"{server}/file/bot")
    return builder.build()


def _markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in keyboard]
    )


def _file(document: Document) -> bytes | str:
    return document.file_id or document.content  # by id: already on Telegram's side


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # an int until PTB_TIMEDELTA is the default
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PtbCalls:
    """The Bot API calls of ``outgoing.py``, made with python-telegram-bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard) -> Message:
        return await self.bot.send_message(chat_id, text, reply_markup=_markup(buttons))

    async def send_photo(self, chat_id: int, photo: Document) -> Message:
        caption = photo.caption or None
        return await self.bot.send_photo(
            chat_id, _file(photo), filename=photo.filename, caption=caption
        )

    async def send_document(self, chat_id: int, document: Document) -> Message:
        caption = document.caption or None
        return await self.bot.send_document(
            chat_id, _file(document), filename=document.filename, caption=caption
        )

    async def edit_text(self, chat_id: int, message_id: int, text: str, buttons: Keyboard) -> None:
        await self.bot.edit_message_text(text, chat_id, message_id, reply_markup=_markup(buttons))

    async def set_commands(
        self, chat_id: int | None, language_code: str, commands: Sequence[tuple[str, str]]
    ) -> None:
        scope = None if chat_id is None else BotCommandScopeChat(chat_id=chat_id)
        listed = [BotCommand(name, text) for name, text in commands]
        await self.bot.set_my_commands(listed, scope=scope, language_code=language_code or None)

    def failure(self, error: Exception) -> Failure | None:
        match error:  # PTB rewrites "Bad Request: chat not found" as "Chat not found"
            case RetryAfter():
                return Failure(Kind.RETRY_AFTER, str(error), _seconds(error))
            case Forbidden():
                return Failure(Kind.FORBIDDEN, str(error))
            case BadRequest():
                return Failure(Kind.BAD_REQUEST, str(error))
        return None


def add_handlers(application: PtbApplication, router: Router) -> None:
    """Every text (commands included: ``Event.message`` splits them) and every button press."""

    async def on_message(update: Update, context: Any) -> None:
        message = update.message
        if message is None:
            return
        html = message.text_html if message.text is not None else message.caption_html
        event = telegram_messages.message_event(message, update.update_id, html, context.bot.id)
        if event is not None:
            calls = PtbCalls(context.bot)
            await telegram_messages.answer(
                router, event, lambda replies: deliver(calls, event.chat_id, replies)
            )

    async def on_button(update: Update, context: Any) -> None:
        query = update.callback_query
        if query is None:
            return
        # Stop the button's spinner at once. A press sent again after a crash was answered
        # already ("query ID is invalid"): it is handled all the same, or its reply is lost.
        with contextlib.suppress(BadRequest):
            await query.answer()
        event = telegram_messages.button_event(query, update.update_id, context.bot.id)
        if event is not None and query.message is not None:
            pressed = query.message.message_id
            calls = PtbCalls(context.bot)
            await telegram_messages.answer(
                router, event, lambda replies: deliver(calls, event.chat_id, replies, pressed)
            )

    # Every message: on_message answers what it can use and what it cannot (a sticker).
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, on_message))
    application.add_handler(CallbackQueryHandler(on_button))


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Link]:
    """The bot, once Telegram has said who it is (initialize: getMe), until the block ends.

    The Application's async API, not run_polling / run_webhook, so that it runs in a loop it
    does not own (the CLI's asyncio.run, or a test's task). Not the Updater either: it
    confirms a batch before handling it (polling.py); nor PTB's start_webhook (tornado):
    the webhook receiver is the same for every framework, and it answers Telegram only once
    the update is handled."""
    # httpx logs every request at INFO with its URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = create_application(settings)
    async with application:  # initialize() (getMe) … shutdown()
        bot = application.bot

        async def serve(router: Router, handle_signals: bool = True) -> None:
            """Long polling, or a webhook when WEBHOOK_URL is set, until a signal or
            cancellation."""
            add_handlers(application, router)

            def parse(update: dict[str, Any]) -> Update:
                return Update.de_json(update, bot)

            async def handle(update: Update) -> None:
                await application.process_update(update)

            try:
                fetch = polling.fetcher(bot.get_updates, read_timeout=polling.POLL_SECONDS + 10)
                await application.start()
                await serve_updates(settings, router, bot, fetch, parse, handle, handle_signals)
            finally:
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()  # waits for the updates being handled

        yield Link(Platform(TelegramSender(PtbCalls(bot)), bot.username, bot.id), serve)
