"""A peer for bench/interview_load.py on python-telegram-bot: the interview written the
way ptb's docs teach.

The counterpart of bench/peer_aiogram.py (the same questions, texts, buttons, answer
checks and answers table, from bench/peer_interview.py): a ``ConversationHandler`` whose
states are the questions, the answers kept in ``context.user_data`` (ptb's default: in
memory, no persistence), each answer saved with the SQLAlchemy 2 async ORM in its own
session and commit, and the same Bot API calls per answer as patentbot (a typed answer →
sendMessage; a pressed answer → answerCallbackQuery, editMessageText, sendMessage; a
cluster group → answerCallbackQuery, editMessageText).

The Application is ``bench/echo_bot_ptb.py``'s, set up as
``bot/transports/telegram/with_ptb.py`` sets it up (base_url at BOT_API_SERVER, HTML parse
mode, concurrent updates, long polling for message and callback_query, httpx at WARNING,
INFO logging).

Run by the benchmark as ``python bench/peer_ptb.py`` with BOT_TOKEN, BOT_API_SERVER and
DATABASE_URL (an async SQLAlchemy URL) set.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bench.echo_bot_ptb import application_from_env, poll_until_signal
from bench.peer_interview import (
    DONE,
    QUESTIONS,
    Question,
    Refused,
    Sessions,
    answered_message,
    database,
    following,
    keyboard_rows,
    preceding,
    question_message,
    save,
    t,
    typed_value,
)

Context = ContextTypes.DEFAULT_TYPE
State = str | int  # a question's id, or ConversationHandler.END
Callback = Callable[[Update, Context], Coroutine[Any, Any, State | None]]
PREFIXES = {"yes_no": "a", "pick": "c", "group": "g"}  # as bench/peer_aiogram.py packs them


def keyboard(question: Question, group: str | None) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                b.text,
                callback_data=f"{PREFIXES[b.action]}:{question.id}:{b.value}"
                if b.action in PREFIXES
                else f"back:{question.id}",
            )
            for b in row
        ]
        for row in keyboard_rows(question, group)
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def answers_of(context: Context) -> dict[str, Any]:
    assert context.user_data is not None
    return context.user_data


async def ask(
    message: Message,
    context: Context,
    question: Question | None,
    error: str | None = None,
) -> State:
    if question is None:  # past the last question this peer has
        await message.reply_text(DONE)
        return ConversationHandler.END
    text = question_message(question, answers_of(context), error)
    await message.reply_text(text, reply_markup=keyboard(question, None))
    return question.id


async def apply(update: Update, context: Context) -> State:
    assert update.message is not None
    answers_of(context).clear()
    await update.message.reply_text(
        t("interview.intro", programme=t("programme.nansha-2024.title"))
    )
    return await ask(update.message, context, QUESTIONS[0])


def typed_answer(question: Question) -> Callback:
    async def answered(update: Update, context: Context) -> State | None:
        """A typed answer: checked, saved, then the next question (or the same one again)."""
        message = update.message
        assert message is not None and message.from_user is not None
        try:
            value = typed_value(question, message.text or "")
        except Refused as refused:
            return await ask(message, context, question, str(refused))
        sessions: Sessions = context.bot_data["sessions"]
        await save(sessions, message.from_user.id, question.id, str(value))
        answers = answers_of(context)
        answers[question.id] = value
        return await ask(message, context, following(question, answers))

    return answered


def not_an_answer(question: Question) -> Callback:
    async def refused(update: Update, context: Context) -> State | None:
        """A photo for a typed question, or text where a button is expected."""
        message = update.message
        assert message is not None
        try:
            typed_value(question, message.text or "")
            error = t("error.empty")
        except Refused as why:
            error = str(why)
        return await ask(message, context, question, error)

    return refused


def pressed(question: Question) -> Callback:
    async def chosen(update: Update, context: Context) -> State | None:
        """a:<question>:1|0, c:<question>:<option>, g:<question>:<group>, back:<question>."""
        query = update.callback_query
        assert query is not None
        await query.answer()  # stop the button's spinner at once
        message = query.message
        if not isinstance(message, Message):
            return None
        kind, _, value = _split(query.data)  # the question is this state's: the pattern says
        answers = answers_of(context)
        if kind == "back":
            return await ask(message, context, preceding(question, answers) or question)
        if kind == "g" and (not value or question.has_group(value)):
            text = question_message(question, answers)
            await message.edit_text(text, reply_markup=keyboard(question, value or None))
            return None
        shown: str | None = None
        if kind == "a" and value in ("1", "0"):
            shown = t("button.yes") if value == "1" else t("button.no")
        elif kind == "c" and question.has(value):
            shown = question.label(value)
        if shown is None:  # a forged button
            await message.reply_text(t("error.stale_button"))
            return None
        chosen_value: bool | str = value == "1" if kind == "a" else value
        sessions: Sessions = context.bot_data["sessions"]
        await save(sessions, query.from_user.id, question.id, str(chosen_value))
        answers[question.id] = chosen_value
        await message.edit_text(answered_message(question, shown))
        return await ask(message, context, following(question, answers))

    return chosen


def _split(data: str | None) -> tuple[str, str, str]:
    kind, _, rest = (data or "").partition(":")
    question, _, value = rest.partition(":")
    return kind, question, value


async def stale(update: Update, context: Context) -> None:
    """A button of another question than the one being asked."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.reply_text(t("error.stale_button"))


def conversation() -> ConversationHandler[Context]:
    states: dict[object, list[Any]] = {}
    for question in QUESTIONS:
        pattern = rf"^(a|c|g|back):{question.id}(:|$)"
        handlers: list[Any] = [CallbackQueryHandler(pressed(question), pattern=pattern)]
        if question.kind not in ("yes_no", "choice", "cluster"):
            text = filters.TEXT & ~filters.COMMAND
            handlers.append(MessageHandler(text, typed_answer(question)))
        handlers.append(MessageHandler(~filters.COMMAND, not_an_answer(question)))
        states[question.id] = handlers
    # Keyed by user (per_message=False, ptb's default): ptb warns that presses are then not
    # tracked per message, which is what an interview of one question at a time wants.
    return ConversationHandler(
        entry_points=[CommandHandler("apply", apply)],
        states=states,
        fallbacks=[CallbackQueryHandler(stale)],
        allow_reentry=True,  # /apply starts again, as on aiogram's peer
    )


async def main() -> None:
    engine, sessions = await database(os.environ["DATABASE_URL"])
    application = application_from_env()
    application.bot_data["sessions"] = sessions
    application.add_handler(conversation())
    try:
        await poll_until_signal(application)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # as with_ptb.py does
    if os.environ.get("BENCH_VARIANTS"):  # what-ifs of bench/variants.py, as for the echo bot
        from bench.variants import VARIANTS
        from bench.variants import apply as apply_variants

        apply_variants(VARIANTS - {"timings"})
    asyncio.run(main())
