"""A peer for bench/interview_load.py: the interview written the way aiogram's docs teach.

Not patentbot with parts removed, and not generated from its form engine: the first 25
questions of the eligible path (every question ELIGIBLE_ZH answers), hand-written as a
developer following aiogram's documentation would write them —

- one ``State`` per question in a ``StatesGroup``, kept in aiogram's default
  ``MemoryStorage``;
- a handler per kind of answer, validating in the handler (text length, the USCC's length
  and characters, amounts as a plain ``Decimal`` with range checks, the count as an int);
  yes/no and choices arrive as button callback data made by ``CallbackData`` factories;
- each answer saved with the SQLAlchemy 2 async ORM in its own
  ``async with sessions() as session: session.add(...); await session.commit()``;
- the same Bot API calls per answer as patentbot: a typed answer → sendMessage with the
  next question; a pressed answer → answerCallbackQuery, editMessageText (the question
  with the choice, its buttons gone), sendMessage with the next question; a cluster group
  → answerCallbackQuery, editMessageText with that group's clusters.

The texts and buttons are patentbot's own, read from its zh_CN catalog at start-up, so the
benchmark's simulated users recognise the questions unchanged. The transport is set up as
in ``bot/telegram_aiogram.py`` and ``bench/echo_bot.py`` (AiohttpSession to
BOT_API_SERVER, HTML parse mode, INFO logging), with aiogram's own ``start_polling``.

Run by the benchmark as ``python bench/peer_aiogram.py`` with BOT_TOKEN, BOT_API_SERVER and
DATABASE_URL (an async SQLAlchemy URL: ``sqlite+aiosqlite:///…`` or
``postgresql+asyncpg://…``) set.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from html import escape
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import BigInteger, DateTime, String, Text, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from locales import Translator, translator

t: Translator = translator("zh_CN")
YEARS = (2021, 2022, 2023)  # the call's three complete years; the record runs from 2021-01-01
MONEY_MAX = Decimal(100_000_000)  # 万元
IP_EXPENSE_MAX = Decimal(10_000_000)
JOINT_MAX = 20
USCC_CHARS = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")  # no I, O, Z, S, V


# --------------------------------------------------------------------------- database


class Base(DeclarativeBase):
    pass


class Answer(Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )


Sessions = async_sessionmaker[AsyncSession]


async def save(sessions: Sessions, user_id: int, question_id: str, value: str) -> None:
    async with sessions() as session:
        session.add(Answer(user_id=user_id, question_id=question_id, value=value))
        await session.commit()


# ---------------------------------------------------------------------- the questions


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


@dataclass(frozen=True)
class Question:
    state: State
    kind: str  # text, uscc, phone, money, count, yes_no, choice, cluster
    text: str  # as shown, HTML
    section: str
    hint: str
    limit: int | Decimal = 0  # a text's length, an amount's maximum
    options: tuple[str, ...] = ()  # choice: option ids; their labels are "<question>.<id>"

    @cached_property
    def id(self) -> str:
        return str(self.state.state).rpartition(":")[2]

    def label(self, option: str) -> str:
        return t(f"{self.id}.{option}")


CLUSTERS = {
    "pillar": (
        "electronics", "petrochemicals", "home_appliances", "automobiles",
        "advanced_materials", "light_textiles", "software", "uhd_video", "biomedicine",
        "agriculture_food",
    ),
    "emerging": (
        "semiconductors", "high_end_equipment", "robotics", "blockchain_quantum",
        "frontier_materials", "new_energy", "laser_additive", "digital_creative",
        "safety_environment", "precision_instruments",
    ),
    "none": ("none",),
}  # fmt: skip


def _questions() -> tuple[Question, ...]:
    since = t.date(date(YEARS[0], 1, 1))
    applicant, eligibility = t("section.applicant"), t("section.eligibility")
    finance, operations, record = t("section.finance"), t("section.operations"), t("section.record")
    money = t("hint.number", unit=t("unit.wan_yuan"))
    yes_no, choice = t("hint.yes_no"), t("hint.choice")
    S = Interview

    def text(state: State, key: str, section: str, limit: int) -> Question:
        return Question(state, "text", t(key), section, t("hint.text", max=limit), limit)

    def yn(state: State, key: str, section: str, **values: object) -> Question:
        return Question(state, "yes_no", t(key, **values), section, yes_no)

    def amount(state: State, key: str, limit: Decimal, **values: object) -> Question:
        return Question(state, "money", t(key, **values), finance, money, limit)

    return (
        text(S.enterprise_name, "q.enterprise_name", applicant, 100),
        Question(S.uscc, "uscc", t("q.uscc"), applicant, t("hint.uscc")),
        text(S.contact_name, "q.contact_name", applicant, 50),
        Question(S.contact_phone, "phone", t("q.contact_phone"), applicant, t("hint.phone")),
        yn(S.in_nansha, "q.in_nansha", eligibility),
        Question(S.cluster, "cluster", t("q.cluster"), eligibility, choice),
        text(S.sub_field, "q.sub_field", eligibility, 100),
        yn(S.rd_leading, "q.rd_leading", eligibility),
        text(S.rd_evidence, "q.rd_evidence", eligibility, 500),
        amount(S.revenue_y1, "q.revenue", MONEY_MAX, year=YEARS[0]),
        amount(S.revenue_y2, "q.revenue", MONEY_MAX, year=YEARS[1]),
        amount(S.revenue_y3, "q.revenue", MONEY_MAX, year=YEARS[2]),
        amount(S.rd_y1, "q.rd", MONEY_MAX, year=YEARS[0]),
        amount(S.rd_y2, "q.rd", MONEY_MAX, year=YEARS[1]),
        amount(S.rd_y3, "q.rd", MONEY_MAX, year=YEARS[2]),
        amount(S.ip_expense, "q.ip_expense", IP_EXPENSE_MAX, last_year=YEARS[2]),
        yn(S.operating_normally, "q.operating_normally", operations),
        Question(
            S.legal_person, "choice", t("q.legal_person"), operations, choice,
            options=("independent", "branch_counted", "neither"),
        ),
        yn(S.independent_accounting, "q.independent_accounting", operations),
        yn(S.credit_compliant, "q.credit_compliant", operations),
        Question(
            S.ip_management, "choice", t("q.ip_management"), operations, choice,
            options=("gbt29490", "written_rules", "none"),
        ),
        yn(S.serious_dishonesty, "q.serious_dishonesty", record, since=since),
        yn(S.abnormal_patents, "q.abnormal_patents", record, since=since),
        yn(S.prior_project, "q.prior_project", record, since=since),
        Question(
            S.joint_count, "count", t("q.joint_count"), t("section.joint"), t("hint.integer"),
            JOINT_MAX,
        ),
    )  # fmt: skip


QUESTIONS = _questions()
BY_ID = {q.id: q for q in QUESTIONS}
BY_STATE = {str(q.state.state): q for q in QUESTIONS}
BASE_TOTAL = 23  # without the two follow-ups, which count once they apply


def applies(question: Question, answers: Mapping[str, Any]) -> bool:
    if question.id == "sub_field":
        return answers.get("cluster") not in (None, "none")
    if question.id == "rd_evidence":
        return answers.get("rd_leading") is True
    return True


def following(question: Question, answers: Mapping[str, Any]) -> Question | None:
    later = QUESTIONS[QUESTIONS.index(question) + 1 :]
    return next((q for q in later if applies(q, answers)), None)


def preceding(question: Question, answers: Mapping[str, Any]) -> Question | None:
    earlier = QUESTIONS[: QUESTIONS.index(question)]
    return next((q for q in reversed(earlier) if applies(q, answers)), None)


# ---------------------------------------------------------------------- what is shown


def keyboard(question: Question, group: str | None) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    width = 1
    if question.kind == "yes_no":
        builder.button(text=t("button.yes"), callback_data=YesNo(question=question.id, yes=True))
        builder.button(text=t("button.no"), callback_data=YesNo(question=question.id, yes=False))
        width = 2
    elif question.kind == "choice":
        for option in question.options:
            builder.button(
                text=question.label(option), callback_data=Pick(question=question.id, option=option)
            )
    elif question.kind == "cluster" and group is None:
        for name in CLUSTERS:
            builder.button(
                text=t(f"cluster_group.{name}"),
                callback_data=Group(question=question.id, group=name),
            )
    elif question.kind == "cluster":
        options = CLUSTERS[group or ""]
        for option in options:
            builder.button(
                text=t(f"cluster.{option}"), callback_data=Pick(question=question.id, option=option)
            )
        width = 2 if len(options) > 4 else 1
    if group is not None:
        builder.button(
            text=t("button.back_to_groups"), callback_data=Group(question=question.id, group="")
        )
    elif question is not QUESTIONS[0]:
        builder.button(text=t("button.back"), callback_data=Back(question=question.id))
    builder.adjust(width)  # the navigation button is left alone on the last row
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def question_message(
    question: Question, answers: Mapping[str, Any], error: str | None = None
) -> str:
    asked = [q for q in QUESTIONS if applies(q, answers)]
    total = BASE_TOTAL + sum(1 for q in asked if q.id in ("sub_field", "rd_evidence"))
    header = t(
        "question.header", number=asked.index(question) + 1, total=total, section=question.section
    )
    lines = [f"⚠️ {error}", ""] if error else []
    lines += [header, f"<b>{question.text}</b>", f"<i>{question.hint}</i>"]
    return "\n".join(lines)


async def ask(
    message: Message,
    state: FSMContext,
    question: Question | None,
    answers: Mapping[str, Any],
    error: str | None = None,
) -> None:
    if question is None:  # past the last question this peer has
        await state.set_state(Interview.done)
        await message.answer(t("review.title"))
        return
    await state.set_state(question.state)
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


async def typed(
    message: Message, state: FSMContext, sessions: Sessions, question: Question, value: Any
) -> None:
    """A valid typed answer: saved, then the next question."""
    assert message.from_user is not None
    await save(sessions, message.from_user.id, question.id, str(value))
    answers = await state.update_data({question.id: value})
    await ask(message, state, following(question, answers), answers)


async def refuse(message: Message, state: FSMContext, question: Question, error: str) -> None:
    await ask(message, state, question, await state.get_data(), error)


TEXT_STATES = [q.state for q in QUESTIONS if q.kind == "text"]
MONEY_STATES = [q.state for q in QUESTIONS if q.kind == "money"]


@router.message(StateFilter(*TEXT_STATES), F.text)
async def text_answer(
    message: Message, state: FSMContext, raw_state: str, sessions: Sessions
) -> None:
    question = BY_STATE[raw_state]
    value = (message.text or "").strip()
    if not value:
        await refuse(message, state, question, t("error.empty"))
    elif len(value) > question.limit:
        error = t("error.too_long", max=question.limit, length=len(value))
        await refuse(message, state, question, error)
    else:
        await typed(message, state, sessions, question, value)


@router.message(Interview.uscc, F.text)
async def uscc_answer(message: Message, state: FSMContext, sessions: Sessions) -> None:
    question = BY_ID["uscc"]
    code = (message.text or "").replace(" ", "").replace("-", "").upper()
    if len(code) != 18:
        await refuse(message, state, question, t("error.uscc_length", length=len(code)))
    elif not set(code) <= USCC_CHARS:
        await refuse(message, state, question, t("error.uscc_chars"))
    else:
        await typed(message, state, sessions, question, code)


@router.message(Interview.contact_phone, F.text)
async def phone_answer(message: Message, state: FSMContext, sessions: Sessions) -> None:
    question = BY_ID["contact_phone"]
    phone = "".join(c for c in message.text or "" if c not in " -()")
    digits = phone.removeprefix("+")
    if digits.isdigit() and 7 <= len(digits) <= 15:
        await typed(message, state, sessions, question, phone)
    else:
        await refuse(message, state, question, t("error.phone"))


def number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@router.message(StateFilter(*MONEY_STATES), F.text)
async def money_answer(
    message: Message, state: FSMContext, raw_state: str, sessions: Sessions
) -> None:
    question = BY_STATE[raw_state]
    value = number(message.text or "")
    if value is None:
        error = t("error.not_a_number", text=escape((message.text or "").strip()))
        await refuse(message, state, question, error)
    elif value < 0:
        await refuse(message, state, question, t("error.negative"))
    elif value > question.limit:
        await refuse(message, state, question, t("error.too_large", max=t.number(question.limit)))
    else:
        await typed(message, state, sessions, question, value)


@router.message(Interview.joint_count, F.text)
async def count_answer(message: Message, state: FSMContext, sessions: Sessions) -> None:
    question = BY_ID["joint_count"]
    value = number(message.text or "")
    if value is None:
        error = t("error.not_a_number", text=escape((message.text or "").strip()))
        await refuse(message, state, question, error)
    elif value != value.to_integral_value():
        await refuse(message, state, question, t("error.not_whole"))
    elif value < 0:
        await refuse(message, state, question, t("error.negative"))
    elif value > question.limit:
        await refuse(message, state, question, t("error.too_large", max=question.limit))
    else:
        await typed(message, state, sessions, question, int(value))


@router.message(StateFilter(*BY_STATE))
async def not_an_answer(message: Message, state: FSMContext, raw_state: str) -> None:
    """A photo for a typed question, or text where a button is expected."""
    question = BY_STATE[raw_state]
    key = {"yes_no": "error.yes_no", "choice": "error.choice", "cluster": "error.choice"}
    await refuse(message, state, question, t(key.get(question.kind, "error.empty")))


async def pressed_question(
    query: CallbackQuery, state: FSMContext, raw_state: str | None, question_id: str
) -> tuple[Message, Question] | None:
    """The message and question of a pressed button, or None (answered as stale) when the
    button belongs to another question than the one being asked."""
    await query.answer()  # stop the button's spinner at once
    message = query.message
    if not isinstance(message, Message):
        return None
    question = BY_ID.get(question_id)
    if question is None or raw_state != question.state.state:
        await message.answer(t("error.stale_button"))
        return None
    return message, question


async def pressed(
    message: Message,
    state: FSMContext,
    sessions: Sessions,
    user_id: int,
    question: Question,
    value: bool | str,
    shown: str,
) -> None:
    """A valid pressed answer: saved, the question shows the choice, the next question."""
    await save(sessions, user_id, question.id, str(value))
    answers = await state.update_data({question.id: value})
    await message.edit_text(f"{question.text}\n→ <b>{shown}</b>")
    await ask(message, state, following(question, answers), answers)


@router.callback_query(YesNo.filter())
async def yes_no_pressed(
    query: CallbackQuery,
    callback_data: YesNo,
    state: FSMContext,
    raw_state: str | None,
    sessions: Sessions,
) -> None:
    found = await pressed_question(query, state, raw_state, callback_data.question)
    if found is None:
        return
    message, question = found
    shown = t("button.yes") if callback_data.yes else t("button.no")
    await pressed(message, state, sessions, query.from_user.id, question, callback_data.yes, shown)


@router.callback_query(Pick.filter())
async def choice_pressed(
    query: CallbackQuery,
    callback_data: Pick,
    state: FSMContext,
    raw_state: str | None,
    sessions: Sessions,
) -> None:
    found = await pressed_question(query, state, raw_state, callback_data.question)
    if found is None:
        return
    message, question = found
    option = callback_data.option
    if question.kind == "cluster" and any(option in options for options in CLUSTERS.values()):
        shown = t(f"cluster.{option}")
    elif option in question.options:
        shown = question.label(option)
    else:  # a forged button
        await message.answer(t("error.stale_button"))
        return
    await pressed(message, state, sessions, query.from_user.id, question, option, shown)


@router.callback_query(Group.filter())
async def group_pressed(
    query: CallbackQuery, callback_data: Group, state: FSMContext, raw_state: str | None
) -> None:
    found = await pressed_question(query, state, raw_state, callback_data.question)
    if found is None:
        return
    message, question = found
    group = callback_data.group or None
    if group is not None and group not in CLUSTERS:
        await message.answer(t("error.stale_button"))
        return
    text = question_message(question, await state.get_data())
    await message.edit_text(text, reply_markup=keyboard(question, group))


@router.callback_query(Back.filter())
async def back_pressed(
    query: CallbackQuery, callback_data: Back, state: FSMContext, raw_state: str | None
) -> None:
    found = await pressed_question(query, state, raw_state, callback_data.question)
    if found is None:
        return
    message, question = found
    answers = await state.get_data()
    await ask(message, state, preceding(question, answers) or question, answers)


# ------------------------------------------------------------------------------- main


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    # The same journal as patentbot's database (models/db.py), so the files are alike.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


async def main() -> None:
    engine = create_async_engine(os.environ["DATABASE_URL"])
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_wal)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    session = AiohttpSession(
        api=TelegramAPIServer.from_base(os.environ["BOT_API_SERVER"].rstrip("/"))
    )
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
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
