"""The python-telegram-bot (v22) transport: Telegram updates → Events, Replies → Bot API calls.

The twin of ``bot/telegram_aiogram.py``, and like it without business logic: every decision
is the router's. Imported only when the bot runs with BOT_FRAMEWORK=ptb.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterable, Sequence
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

from bot import polling, webhook
from bot import telegram_messages as tm
from bot.app import deliveries, until_stopped
from bot.settings import Settings
from handlers import menu
from handlers.router import Router
from handlers.types import (
    Document,
    Keyboard,
    RateLimited,
    RecipientGone,
    Reply,
    Sent,
)

log = logging.getLogger(__name__)

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


async def deliver(
    bot: Bot, chat_id: int, replies: Iterable[Reply], pressed: int | None = None
) -> list[Message]:
    """Send replies in order; an ``edit`` reply rewrites the message whose button was pressed."""
    sent: list[Message] = []
    for reply in replies:
        markup = _markup(reply.buttons)
        if reply.edit and pressed is not None:
            try:
                await bot.edit_message_text(
                    text=reply.text, chat_id=chat_id, message_id=pressed, reply_markup=markup
                )
                continue
            except BadRequest as e:  # too old to edit, or unchanged: send instead
                if "not modified" in str(e).lower():
                    continue
        if reply.photo is not None:
            photo = await bot.send_photo(
                chat_id,
                _file(reply.photo),
                filename=reply.photo.filename,
                caption=reply.photo.caption or None,
            )
            sent.append(photo)
        if reply.document is not None:
            document = await bot.send_document(
                chat_id,
                _file(reply.document),
                filename=reply.document.filename,
                caption=reply.document.caption or None,
            )
            sent.append(document)
        if reply.text:
            sent.append(await bot.send_message(chat_id, reply.text, reply_markup=markup))
    return sent


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # an int until PTB_TIMEDELTA is the default
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PtbSender:
    """The neutral sender (broadcasts): platform errors become RateLimited / RecipientGone."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, reply: Reply) -> Sent:
        try:
            return tm.sent(await deliver(self.bot, chat_id, [reply]))
        except RetryAfter as e:
            raise RateLimited(_seconds(e)) from e
        except Forbidden as e:
            raise RecipientGone(str(e)) from e
        except BadRequest as e:  # PTB rewrites "Bad Request: chat not found" as "Chat not found"
            if "chat not found" in str(e).lower():
                raise RecipientGone(str(e)) from e
            raise

    async def edit(self, chat_id: int, message_id: int, reply: Reply) -> None:
        try:
            await self.bot.edit_message_text(
                reply.text, chat_id, message_id, reply_markup=_markup(reply.buttons)
            )
        except RetryAfter as e:
            raise RateLimited(_seconds(e)) from e
        except Forbidden as e:
            raise RecipientGone(str(e)) from e
        except BadRequest as e:
            if "not modified" not in str(e).lower():
                raise

    async def set_commands(
        self, chat_id: int | None, language_code: str, commands: Sequence[tuple[str, str]]
    ) -> None:
        scope = None if chat_id is None else BotCommandScopeChat(chat_id=chat_id)
        listed = [BotCommand(name, text) for name, text in commands]
        try:  # an empty menu removes the scope's own, as Telegram's deleteMyCommands does
            await self.bot.set_my_commands(listed, scope=scope, language_code=language_code or None)
        except (BadRequest, Forbidden) as e:  # no chat with the bot (yet)
            raise RecipientGone(str(e)) from e


def add_handlers(application: PtbApplication, router: Router) -> None:
    """Every text (commands included: ``Event.message`` splits them) and every button press."""

    async def on_message(update: Update, context: Any) -> None:
        message = update.message
        if message is None:
            return
        html = message.text_html if message.text is not None else message.caption_html
        event = tm.message_event(message, update.update_id, html)
        if event is not None:
            bot = context.bot
            await tm.answer(router, event, lambda replies: deliver(bot, event.chat_id, replies))

    async def on_button(update: Update, context: Any) -> None:
        query = update.callback_query
        if query is None:
            return
        # Stop the button's spinner at once. A press sent again after a crash was answered
        # already ("query ID is invalid"): it is handled all the same, or its reply is lost.
        with contextlib.suppress(BadRequest):
            await query.answer()
        event = tm.button_event(query, update.update_id)
        if event is not None and query.message is not None:
            pressed = query.message.message_id
            await tm.answer(
                router, event, lambda replies: deliver(context.bot, event.chat_id, replies, pressed)
            )

    # Every message: on_message answers what it can use and what it cannot (a sticker).
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, on_message))
    application.add_handler(CallbackQueryHandler(on_button))


async def serve(settings: Settings, router: Router, *, handle_signals: bool = True) -> None:
    """Long polling, or a webhook when WEBHOOK_URL is set, until a signal or cancellation.

    The Application's async API, not run_polling / run_webhook, so that it runs in a loop it
    does not own (the CLI's asyncio.run, or a test's task)."""
    # httpx logs every request at INFO with its URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = create_application(settings)
    add_handlers(application, router)
    async with application:  # initialize() (getMe) … shutdown()
        try:
            router.context.bot_username = application.bot.username
            router.context.bot_id = application.bot.id
            router.context.sender = PtbSender(application.bot)
            await menu.register_menus(router.context)
            await application.start()
            async with deliveries(router.context):  # broadcasts, in the background
                if settings.webhook_url is None:
                    await _poll(application, handle_signals)
                else:
                    await _webhook(settings, application, handle_signals)
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()  # waits for the updates being handled


async def _poll(application: PtbApplication, handle_signals: bool) -> None:
    bot = application.bot
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("polling Telegram as @%s", bot.username)

    fetch = polling.fetcher(bot.get_updates, read_timeout=polling.POLL_SECONDS + 10)

    async def handle(update: Update) -> None:
        await application.process_update(update)

    # Not the Updater: it confirms a batch before handling it (bot/polling.py).
    await polling.poll_until_stopped(fetch, handle, handle_signals)


async def _webhook(settings: Settings, application: PtbApplication, handle_signals: bool) -> None:
    # Our own aiohttp receiver, not PTB's start_webhook (tornado): the same for every
    # framework, and it answers Telegram only once the update is handled.
    def parse(update: dict[str, Any]) -> Update:
        return Update.de_json(update, application.bot)

    async def handle(update: Update) -> None:
        await application.process_update(update)

    async with webhook.listening(settings, parse, handle) as secret:
        await application.bot.set_webhook(
            str(settings.webhook_url), secret_token=secret, allowed_updates=tm.ALLOWED_UPDATES
        )
        log.info("Telegram posts to %s for @%s", settings.webhook_url, application.bot.username)
        await until_stopped(handle_signals)
