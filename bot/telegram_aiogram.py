"""The aiogram 3 transport: Telegram updates → Events, Replies → Bot API calls.

No business logic here: every decision is the router's. Imported only when the bot
runs on Telegram with BOT_FRAMEWORK=aiogram (aiogram costs ~2 s and ~170 MB to import).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
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

from bot import polling, webhook
from bot import telegram_messages as tm
from bot.aiogram_responses import keep_response_models
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
            except TelegramBadRequest as e:  # too old to edit, or unchanged: send instead
                if "not modified" in str(e):
                    continue
        if reply.photo is not None:
            photo, caption = _file(reply.photo), reply.photo.caption or None
            sent.append(await bot.send_photo(chat_id, photo, caption=caption))
        if reply.document is not None:
            file, caption = _file(reply.document), reply.document.caption or None
            sent.append(await bot.send_document(chat_id, file, caption=caption))
        if reply.text:
            sent.append(await bot.send_message(chat_id, reply.text, reply_markup=markup))
    return sent


class AiogramSender:
    """The neutral sender (broadcasts): platform errors become RateLimited / RecipientGone."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, reply: Reply) -> Sent:
        try:
            return tm.sent(await deliver(self.bot, chat_id, [reply]))
        except TelegramRetryAfter as e:
            raise RateLimited(e.retry_after) from e
        except (TelegramForbiddenError, TelegramNotFound) as e:
            raise RecipientGone(str(e)) from e
        except TelegramBadRequest as e:
            if "chat not found" in str(e).lower():
                raise RecipientGone(str(e)) from e
            raise

    async def edit(self, chat_id: int, message_id: int, reply: Reply) -> None:
        try:
            await self.bot.edit_message_text(
                text=reply.text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=_markup(reply.buttons),
            )
        except TelegramRetryAfter as e:
            raise RateLimited(e.retry_after) from e
        except TelegramForbiddenError as e:
            raise RecipientGone(str(e)) from e
        except TelegramBadRequest as e:
            if "not modified" not in str(e):
                raise

    async def set_commands(
        self, chat_id: int | None, language_code: str, commands: Sequence[tuple[str, str]]
    ) -> None:
        scope = None if chat_id is None else BotCommandScopeChat(chat_id=chat_id)
        listed = [BotCommand(command=name, description=text) for name, text in commands]
        try:  # an empty menu removes the scope's own, as Telegram's deleteMyCommands does
            await self.bot.set_my_commands(listed, scope=scope, language_code=language_code or None)
        except (TelegramBadRequest, TelegramForbiddenError) as e:  # no chat with the bot (yet)
            raise RecipientGone(str(e)) from e


def build_dispatcher(router: Router) -> Dispatcher:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def on_message(message: Message, bot: Bot, event_update: Update) -> None:
        event = tm.message_event(message, event_update.update_id, message.html_text)
        if event is not None:
            await tm.answer(router, event, lambda replies: deliver(bot, event.chat_id, replies))

    @dispatcher.callback_query()
    async def on_button(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        # Stop the button's spinner at once. A press sent again after a crash was answered
        # already ("query ID is invalid"): it is handled all the same, or its reply is lost.
        with contextlib.suppress(TelegramBadRequest):
            await query.answer()
        event = tm.button_event(query, event_update.update_id)
        if event is not None and query.message is not None:
            pressed = query.message.message_id
            await tm.answer(
                router, event, lambda replies: deliver(bot, event.chat_id, replies, pressed)
            )

    return dispatcher


async def serve(settings: Settings, router: Router, *, handle_signals: bool = True) -> None:
    """Long polling, or a webhook when WEBHOOK_URL is set, until a signal or cancellation."""
    bot = create_bot(settings)
    dispatcher = build_dispatcher(router)
    try:
        me = await bot.me()  # asks Telegram once; later calls are cached
        router.context.bot_username = me.username
        router.context.bot_id = me.id
        router.context.sender = AiogramSender(bot)
        await menu.register_menus(router.context)
        async with deliveries(router.context):  # broadcasts, in the background
            if settings.webhook_url is None:
                await _poll(bot, dispatcher, handle_signals)
            else:
                await _webhook(settings, bot, dispatcher, handle_signals)
    finally:
        await bot.session.close()


async def _poll(bot: Bot, dispatcher: Dispatcher, handle_signals: bool) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("polling Telegram as @%s", (await bot.me()).username)

    fetch = polling.fetcher(bot.get_updates, request_timeout=polling.POLL_SECONDS + 10)

    async def handle(update: Update) -> None:
        await dispatcher.feed_update(bot, update)

    # Not dispatcher.start_polling: it confirms a batch before handling it (bot/polling.py).
    await polling.poll_until_stopped(fetch, handle, handle_signals)


async def _webhook(
    settings: Settings, bot: Bot, dispatcher: Dispatcher, handle_signals: bool
) -> None:
    def parse(update: dict[str, Any]) -> Update:
        return Update.model_validate(update, context={"bot": bot})

    async def handle(update: Update) -> None:
        await dispatcher.feed_update(bot, update)

    async with webhook.listening(settings, parse, handle) as secret:
        await bot.set_webhook(
            str(settings.webhook_url), secret_token=secret, allowed_updates=tm.ALLOWED_UPDATES
        )
        log.info("Telegram posts to %s for @%s", settings.webhook_url, (await bot.me()).username)
        await until_stopped(handle_signals)
