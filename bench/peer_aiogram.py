"""A peer for bench/interview_load.py: the interview written the way aiogram's docs teach.

Not patentbot with parts removed, and not generated from its form engine: the first 25
questions of the eligible path (every question ELIGIBLE_ZH answers), hand-written as a
developer following aiogram's documentation would write them —

- one ``State`` per question in a ``StatesGroup``, kept in aiogram's default
  ``MemoryStorage``;
- a handler for typed answers and one per kind of button, each answer checked as it
  arrives (text length, the USCC's length and characters, amounts as a plain ``Decimal``
  with range checks, the count as an int); yes/no and choices arrive as button callback
  data made by ``CallbackData`` factories;
- each answer saved with the SQLAlchemy 2 async ORM in its own
  ``async with sessions() as session: session.add(...); await session.commit()``;
- the same Bot API calls per answer as patentbot: a typed answer → sendMessage with the
  next question; a pressed answer → answerCallbackQuery, editMessageText (the question
  with the choice, its buttons gone), sendMessage with the next question; a cluster group
  → answerCallbackQuery, editMessageText with that group's clusters.

The questions, their texts and buttons (patentbot's own, from its zh_CN catalog, so the
benchmark's simulated users recognise them unchanged), what a typed answer must look like
and the answers table are shared with bench/peer_ptb.py (bench/peer_interview.py). The
transport is set up as in ``bot/transports/telegram/with_aiogram.py`` and ``bench/echo_bot.py``
(AiohttpSession to BOT_API_SERVER, HTML parse mode, INFO logging), with aiogram's own
``start_polling``.

Run by the benchmark as ``python bench/peer_aiogram.py`` with BOT_TOKEN, BOT_API_SERVER and
DATABASE_URL (an async SQLAlchemy URL: ``sqlite+aiosqlite:///…`` or
``postgresql+asyncpg://…``) set.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bench.echo_bot import bot_from_env
from bench.peer_interview import (
    BY_ID,
    DONE,
    QUESTIONS,
    Button,
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


class Interview(StatesGroup):
    enterprise_name = State()
    uscc = State()
    contact_name = State()
    contact_phone = State()
    in_nansha = State()
    cluster = State()
    sub_field = State()  # only when a cluster was chosen
    rd_leading = State()
    rd_evidence = State()  # only when the R&D is leading
    revenue_y1 = State()
    revenue_y2 = State()
    revenue_y3 = State()
    rd_y1 = State()
    rd_y2 = State()
    rd_y3 = State()
    ip_expense = State()
    operating_normally = State()
    legal_person = State()
    independent_accounting = State()
    credit_compliant = State()
    ip_management = State()
    serious_dishonesty = State()
    abnormal_patents = State()
    prior_project = State()
    joint_count = State()
    done = State()


class YesNo(CallbackData, prefix="a"):
    question: str
    yes: bool


class Pick(CallbackData, prefix="c"):
    question: str
    option: str


class Group(CallbackData, prefix="g"):
    question: str
    group: str  # "" goes back to the groups


class Back(CallbackData, prefix="back"):
    question: str


def state_of(question: Question) -> State:
    state = getattr(Interview, question.id)
    assert isinstance(state, State)
    return state


BY_STATE = {str(state_of(q).state): q for q in QUESTIONS}
TYPED_STATES = [state_of(q) for q in QUESTIONS if q.kind not in ("yes_no", "choice", "cluster")]


def callback(question: Question, button: Button) -> CallbackData:
    match button.action:
        case "yes_no":
            return YesNo(question=question.id, yes=button.value == "1")
        case "pick":
            return Pick(question=question.id, option=button.value)
        case "group":
            return Group(question=question.id, group=button.value)
    return Back(question=question.id)


def keyboard(question: Question, group: str | None) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for row in keyboard_rows(question, group):
        builder.row(
            *(
                InlineKeyboardButton(text=b.text, callback_data=callback(question, b).pack())
                for b in row
            )
        )
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


async def ask(
    message: Message,
    state: FSMContext,
    question: Question | None,
    answers: dict[str, Any],
    error: str | None = None,
) -> None:
    if question is None:  # past the last question this peer has
        await state.set_state(Interview.done)
        await message.answer(DONE)
        return
    await state.set_state(state_of(question))
    await message.answer(
        question_message(question, answers, error), reply_markup=keyboard(question, None)
    )


# --------------------------------------------------------------------------- handlers

router = Router()


@router.message(Command("apply"))
async def apply(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(t("interview.intro", programme=t("programme.nansha-2024.title")))
    await ask(message, state, QUESTIONS[0], {})


@router.message(StateFilter(*TYPED_STATES), F.text)
async def typed_answer(
    message: Message, state: FSMContext, raw_state: str, sessions: Sessions
) -> None:
    """A typed answer: checked, saved, then the next question (or the same one again)."""
    question = BY_STATE[raw_state]
    try:
        value = typed_value(question, message.text or "")
    except Refused as refused:
        await ask(message, state, question, await state.get_data(), str(refused))
        return
    assert message.from_user is not None
    await save(sessions, message.from_user.id, question.id, str(value))
    answers = await state.update_data({question.id: value})
    await ask(message, state, following(question, answers), answers)


@router.message(StateFilter(*BY_STATE))
async def not_an_answer(message: Message, state: FSMContext, raw_state: str) -> None:
    """A photo for a typed question, or text where a button is expected."""
    question = BY_STATE[raw_state]
    try:
        typed_value(question, message.text or "")
        error = t("error.empty")
    except Refused as refused:
        error = str(refused)
    await ask(message, state, question, await state.get_data(), error)


async def pressed_question(
    query: CallbackQuery, raw_state: str | None, question_id: str
) -> tuple[Message, Question] | None:
    """The message and question of a pressed button, or None (answered as stale) when the
    button belongs to another question than the one being asked."""
    await query.answer()  # stop the button's spinner at once
    message = query.message
    if not isinstance(message, Message):
        return None
    question = BY_ID.get(question_id)
    if question is None or raw_state != state_of(question).state:
        await message.answer(t("error.stale_button"))
        return None
    return message, question


async def pressed(
    query: CallbackQuery,
    state: FSMContext,
    raw_state: str | None,
    sessions: Sessions,
    question_id: str,
    value: bool | str,
) -> None:
    """A pressed answer: saved, the question shows the choice, then the next question."""
    found = await pressed_question(query, raw_state, question_id)
    if found is None:
        return
    message, question = found
    if isinstance(value, bool):
        shown = t("button.yes") if value else t("button.no")
    elif question.has(value):
        shown = question.label(value)
    else:  # a forged button
        await message.answer(t("error.stale_button"))
        return
    await save(sessions, query.from_user.id, question.id, str(value))
    answers = await state.update_data({question.id: value})
    await message.edit_text(answered_message(question, shown))
    await ask(message, state, following(question, answers), answers)


@router.callback_query(YesNo.filter())
@router.callback_query(Pick.filter())
async def answer_pressed(
    query: CallbackQuery,
    callback_data: YesNo | Pick,
    state: FSMContext,
    raw_state: str | None,
    sessions: Sessions,
) -> None:
    value = callback_data.yes if isinstance(callback_data, YesNo) else callback_data.option
    await pressed(query, state, raw_state, sessions, callback_data.question, value)


@router.callback_query(Group.filter())
async def group_pressed(
    query: CallbackQuery, callback_data: Group, state: FSMContext, raw_state: str | None
) -> None:
    found = await pressed_question(query, raw_state, callback_data.question)
    if found is None:
        return
    message, question = found
    group = callback_data.group or None
    if question.kind != "cluster" or (group is not None and not question.has_group(group)):
        await message.answer(t("error.stale_button"))
        return
    text = question_message(question, await state.get_data())
    await message.edit_text(text, reply_markup=keyboard(question, group))


@router.callback_query(Back.filter())
async def back_pressed(
    query: CallbackQuery, callback_data: Back, state: FSMContext, raw_state: str | None
) -> None:
    found = await pressed_question(query, raw_state, callback_data.question)
    if found is None:
        return
    message, question = found
    answers = await state.get_data()
    await ask(message, state, preceding(question, answers) or question, answers)


# ------------------------------------------------------------------------------- main


async def main() -> None:
    engine, sessions = await database(os.environ["DATABASE_URL"])
    bot = bot_from_env()
    dispatcher = Dispatcher(storage=MemoryStorage(), sessions=sessions)
    dispatcher.include_router(router)
    try:
        await dispatcher.start_polling(bot, allowed_updates=dispatcher.resolve_used_update_types())
    finally:
        await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if os.environ.get("BENCH_VARIANTS"):  # what-ifs of bench/variants.py, as for the echo bot
        from bench.variants import VARIANTS, apply

        apply(VARIANTS - {"timings"})
    asyncio.run(main())
