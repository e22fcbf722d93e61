"""Random input at every question of every form, through ``Router.handle`` as a user sends
it; shared by tests/chat/test_fuzz.py (a fast profile) and bench/fuzz.py (100,000 examples).

Each form has its own user, brought to its review with valid answers; an example jumps
to a question (the review's edit button), sends one random text or button press, and
checks: nothing raised or was logged as a failure, no
reply is the internal-error message, every reply is well-formed Telegram HTML, and every
answer stored for the user parses back to a valid value of its question.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from html import unescape
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from forms.answers import InvalidAnswer, Value, decode, parse
from forms.codes import uscc_well_formed
from forms.definition import Form, Question, admin_form, linked, programme
from handlers.admin import broadcast_queue
from handlers.kernel import pending
from handlers.kernel.context import Context
from handlers.kernel.pending import BroadcastDraft
from handlers.kernel.router import Router
from handlers.kernel.types import Reply
from locales import LOCAL_TIME, SUPPORTED, translator
from models import queries
from models.db import connect
from models.tables import Answer, Application, Conversation, TrainingEvent
from testkit.answers import DETAILS_ZH, ELIGIBLE_ZH
from testkit.chat import Chat, current_question, fill_details, run_interview
from testkit.fuzz_inputs import BROADCAST, Input, Target

t = translator("zh_CN")
ADMIN = 999
# Every question asked, the joint applicants' too (asked when there are some).
ANSWERS = {
    **ELIGIBLE_ZH,
    "joint_count": "2",
    "joint1_kind": "高等院校",
    "joint1_name": "华南理工大学",
    "joint2_kind": "科研院所",
    "joint2_name": "广州智能装备研究院",
}
EVENT_ANSWERS = {
    "title": "高价值专利培训",
    "event_date": "2030-10-08",
    "place": "南沙",
    "closes_at": "2030-10-09 17:00",
}
INTERNAL_ERRORS = frozenset(translator(locale)("error.internal") for locale in SUPPORTED)


def as_typed(question: Question, value: Value) -> str:
    """A stored value written back as a user would type it."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"  # 10000, as typed, for the stored 1E+4
    return str(value)


def invalid_answer(question: Question, stored: object) -> str | None:
    """Why a stored answer is not a valid value of its question (None: it is): it must
    keep the question's own limits, and parse back to itself from how it reads."""
    value = decode(question, stored)
    if value is None:
        return None if question.optional else "empty, but not optional"
    broken = _outside_limits(question, value)
    if broken:
        return f"{value!r}: {broken}"
    try:
        again = parse(question, as_typed(question, value)).value
    except InvalidAnswer as e:
        return f"{value!r} does not parse back: {e.key}"
    return None if again == value else f"{value!r} parses back as {again!r}"


def _outside_limits(question: Question, value: Value) -> str | None:
    """The question's limits, checked apart from the parser (which they would share a
    bug with)."""
    match question.type, value:
        case "yes_no", bool():
            return None
        case "choice", str():
            return None if question.option(value) else "no such option"
        case "number" | "integer", Decimal() | int() if not isinstance(value, bool):
            number = Decimal(value)
            if not number.is_finite() or (question.type == "integer") != isinstance(value, int):
                return "not a number of the question's kind"
            low, high = question.min, question.max
            if (low is not None and number < low) or (high is not None and number > high):
                return f"outside {low}..{high}"
            return None if number.as_tuple().exponent >= -4 else "over 4 decimals"  # type: ignore[operator]
        case "text", str():
            if not value.strip() or value != value.strip() or len(value) > question.max_length:
                return f"blank, padded or over {question.max_length} characters"
            controls = [c for c in value if c not in "\n\t" and unicodedata.category(c) == "Cc"]
            return f"control characters {controls!r}" if controls else None
        case "uscc", str():
            return None if len(value) == 18 and uscc_well_formed(value) else "not a USCC"
        case "phone", str():
            digits = value.removeprefix("+")
            return None if digits.isdigit() and 7 <= len(digits) <= 15 else "not a phone number"
        case "date", date() if not isinstance(value, datetime):
            return None
        case "datetime", datetime() if value.tzinfo is not None:
            return None
    return f"not a {question.type} value"


class FailureLog(logging.Handler):
    """Errors logged while an input is handled (the router logs what it caught)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Fuzzer:
    router: Router
    engine: AsyncEngine
    form: Form
    event_code: str = ""
    # One user per flow, at its review: a question's edit button brings them to any
    # question; one that an input took elsewhere (or erased) is replaced.
    users: dict[str, int] = field(default_factory=dict)
    next_user: int = 100_000
    failures: FailureLog = field(default_factory=FailureLog)
    users_made: int = 0

    @classmethod
    async def start(cls, database: Path) -> Fuzzer:
        form = programme("nansha-2024")
        engine, sessions = await connect(f"sqlite:///{database}")
        router = Router(Context(sessions=sessions, form=form, admin_ids=frozenset({ADMIN})))
        fuzzer = cls(router, engine, form)
        logging.getLogger().addHandler(fuzzer.failures)
        admin = Chat(router, ADMIN)
        await admin.send("/event new")
        for qid in ("title", "event_date", "place", "closes_at"):
            await admin.send(EVENT_ANSWERS[qid])
        await admin.press_data("submit:event_setup")
        async with sessions() as session:
            fuzzer.event_code = (await session.exec(select(TrainingEvent.code))).one()
        return fuzzer

    async def stop(self) -> None:
        logging.getLogger().removeHandler(self.failures)
        await self.engine.dispose()

    @property
    def forms(self) -> list[Form]:
        linked_forms = [linked(self.form, key) for key in ("draft_details", "survey")]
        return [self.form, *linked_forms, admin_form("event")]

    async def _new_user(self, target: Target) -> Chat:
        """A user at the review of the target's form (an admin at the composer)."""
        self.next_user += 1
        self.users_made += 1
        chat = Chat(self.router, self.next_user)
        if target.flow in ("event", BROADCAST):
            async with self.router.context.sessions() as session:
                await queries.add_admin(session, chat.user_id, ADMIN)
                await session.commit()
        match target.flow:
            case "interview":
                await chat.send("/apply")
                await run_interview(chat, self.form, ANSWERS, submit=False)
            case "details":
                await chat.send("/apply")
                await run_interview(chat, self.form, ANSWERS)
                await chat.send("/draft")
                await chat.press(t("button.fill_details"))
                await fill_details(chat, linked(self.form, "draft_details"), dict(DETAILS_ZH))
            case "survey":
                await chat.send(f"/start survey-{self.event_code}")
                survey = linked(self.form, "survey")
                while (qid := current_question(survey, "zh_CN", chat.text)) is not None:
                    if survey.question(qid).type == "text":
                        await chat.send("很好")
                    else:
                        await chat.press("满意")
            case "event":
                await chat.send("/event new")
                for qid in ("title", "event_date", "place", "closes_at"):
                    await chat.send(EVENT_ANSWERS[qid])
        return chat

    async def _place(self, target: Target) -> int:
        """The target's user, at the target's question (or composing a new broadcast)."""
        for _ in range(2):
            user_id = self.users.get(target.flow)
            if user_id is None:
                user_id = self.users[target.flow] = (await self._new_user(target)).user_id
            chat = Chat(self.router, user_id)
            if target.question is None:
                await chat.send("/broadcast")
            else:
                await chat.press_data(f"edit:{target.question.id}")
            if await self._at(user_id, target):
                return user_id
            del self.users[target.flow]  # an earlier input took them elsewhere: a new one
        raise AssertionError(f"cannot bring a user to {target}")

    async def _at(self, user_id: int, target: Target) -> bool:
        async with self.router.context.sessions() as session:
            conversation = await session.get(Conversation, user_id)
        if conversation is None:
            return False
        if target.question is None:
            return conversation.flow == BROADCAST
        return conversation.question_id == target.question.id

    async def attempt(self, target: Target, given: Input) -> None:
        """One example: place, send, check (an AssertionError says what went wrong)."""
        user_id = await self._place(target)
        chat = Chat(self.router, user_id)
        self.failures.records.clear()
        if given.text is not None:
            replies = await chat.send(given.text)
        else:
            assert given.data is not None
            replies = await chat.press_data(given.data)
        assert not self.failures.records, self.failures.records[0].getMessage()
        for reply in replies:
            check_reply(reply)
        await self.check_stored(user_id)

    async def check_stored(self, user_id: int) -> None:
        questions = {(f.id, q.id): q for f in self.forms for q in f.questions}
        # The draft details are answers of the interview's application.
        details = linked(self.form, "draft_details")
        questions |= {(self.form.id, q.id): q for q in details.questions}
        async with self.router.context.sessions() as session:
            rows = (
                await session.exec(
                    select(Application.programme_id, Answer.question_id, Answer.value)
                    .join(Application, col(Answer.application_id) == col(Application.id))
                    .where(Application.user_id == user_id, col(Answer.superseded_at).is_(None))
                )
            ).all()
            conversation = await session.get(Conversation, user_id)
        for programme_id, qid, stored in rows:
            question = questions.get((programme_id, qid))
            assert question is not None, f"an answer to no question: {programme_id}/{qid}"
            why = invalid_answer(question, stored)
            assert why is None, f"{programme_id}/{qid}: {why}"
        draft = pending.get(conversation, BroadcastDraft) if conversation else None
        if conversation and conversation.flow == BROADCAST and draft and draft.message:
            shown, problems = broadcast_queue.check_html(draft.message.text)
            assert not problems, f"the broadcast draft is not Telegram HTML: {problems}"
            assert len(shown) <= broadcast_queue.TEXT_LIMIT


def check_reply(reply: Reply) -> None:
    text = reply.text or ""
    assert text not in INTERNAL_ERRORS, "the internal-error message"
    _, problems = broadcast_queue.check_html(text)  # the HTML subset Telegram accepts
    assert not problems, f"a reply is not Telegram HTML ({problems}): {text[:200]!r}"
    for row in reply.buttons:
        for button in row:
            assert len(button.data.encode()) <= 64, f"button data over 64 bytes: {button.data!r}"
            assert unescape(button.text).strip(), "a button without a label"
