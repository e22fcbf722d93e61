"""What the two peers (bench/peer_aiogram.py, bench/peer_ptb.py) share: the interview as a
developer would hand-write it for either library — the questions, what a typed answer must
look like, what is shown — and the answers table.

Not patentbot's form engine: the 25 questions of the eligible path (every question the
benchmark's users answer) and their two skip rules, written out. Texts and button labels
are patentbot's own, read from its zh_CN catalog, so the benchmark's simulated users
recognise every question unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, Text, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as create_engine
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


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    # The same journal as patentbot's database (models/db.py), so the files are alike.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


async def database(url: str) -> tuple[AsyncEngine, Sessions]:
    """An engine on ``url`` (async SQLAlchemy), its table created, and its sessions."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_wal)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return engine, async_sessionmaker(engine, expire_on_commit=False)


async def save(sessions: Sessions, user_id: int, question_id: str, value: str) -> None:
    async with sessions() as session:
        session.add(Answer(user_id=user_id, question_id=question_id, value=value))
        await session.commit()


# ---------------------------------------------------------------------- the questions


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # text, uscc, phone, money, count, yes_no, choice, cluster
    text: str  # as shown, HTML
    section: str
    hint: str
    limit: int | Decimal = 0  # a text's length, an amount's or a count's maximum
    options: tuple[str, ...] = ()  # choice: option ids; their labels are "<question>.<id>"

    def label(self, option: str) -> str:
        return t(f"cluster.{option}") if self.kind == "cluster" else t(f"{self.id}.{option}")

    def has(self, option: str) -> bool:
        if self.kind == "cluster":
            return any(option in options for options in CLUSTERS.values())
        return option in self.options

    def has_group(self, group: str) -> bool:
        return group in CLUSTERS


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

    def text(qid: str, section: str, limit: int) -> Question:
        return Question(qid, "text", t(f"q.{qid}"), section, t("hint.text", max=limit), limit)

    def yn(qid: str, section: str, **values: object) -> Question:
        return Question(qid, "yes_no", t(f"q.{qid}", **values), section, yes_no)

    def amount(qid: str, key: str, limit: Decimal, **values: object) -> Question:
        return Question(qid, "money", t(key, **values), finance, money, limit)

    return (
        text("enterprise_name", applicant, 100),
        Question("uscc", "uscc", t("q.uscc"), applicant, t("hint.uscc")),
        text("contact_name", applicant, 50),
        Question("contact_phone", "phone", t("q.contact_phone"), applicant, t("hint.phone")),
        yn("in_nansha", eligibility),
        Question("cluster", "cluster", t("q.cluster"), eligibility, choice),
        text("sub_field", eligibility, 100),  # only when a cluster was chosen
        yn("rd_leading", eligibility),
        text("rd_evidence", eligibility, 500),  # only when the R&D is leading
        amount("revenue_y1", "q.revenue", MONEY_MAX, year=YEARS[0]),
        amount("revenue_y2", "q.revenue", MONEY_MAX, year=YEARS[1]),
        amount("revenue_y3", "q.revenue", MONEY_MAX, year=YEARS[2]),
        amount("rd_y1", "q.rd", MONEY_MAX, year=YEARS[0]),
        amount("rd_y2", "q.rd", MONEY_MAX, year=YEARS[1]),
        amount("rd_y3", "q.rd", MONEY_MAX, year=YEARS[2]),
        amount("ip_expense", "q.ip_expense", IP_EXPENSE_MAX, last_year=YEARS[2]),
        yn("operating_normally", operations),
        Question(
            "legal_person", "choice", t("q.legal_person"), operations, choice,
            options=("independent", "branch_counted", "neither"),
        ),
        yn("independent_accounting", operations),
        yn("credit_compliant", operations),
        Question(
            "ip_management", "choice", t("q.ip_management"), operations, choice,
            options=("gbt29490", "written_rules", "none"),
        ),
        yn("serious_dishonesty", record, since=since),
        yn("abnormal_patents", record, since=since),
        yn("prior_project", record, since=since),
        Question(
            "joint_count", "count", t("q.joint_count"), t("section.joint"), t("hint.integer"),
            JOINT_MAX,
        ),
    )  # fmt: skip


QUESTIONS = _questions()
BY_ID = {q.id: q for q in QUESTIONS}
BASE_TOTAL = 23  # without the two follow-ups, which count once they apply
DONE = t("review.title")  # all this peer says after the last question: no review, no verdict


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


# ----------------------------------------------------------------- what a typed answer is


class Refused(ValueError):
    """Why a typed answer is not one: the message shown above the question again."""


def number(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise Refused(t("error.not_a_number", text=escape(text.strip())))
    return value


def typed_value(question: Question, text: str) -> str | Decimal | int:
    """The value of a typed answer to ``question``, or Refused."""
    match question.kind:
        case "text":
            value = text.strip()
            if not value:
                raise Refused(t("error.empty"))
            if len(value) > question.limit:
                raise Refused(t("error.too_long", max=question.limit, length=len(value)))
            return value
        case "uscc":
            code = text.replace(" ", "").replace("-", "").upper()
            if len(code) != 18:
                raise Refused(t("error.uscc_length", length=len(code)))
            if not set(code) <= USCC_CHARS:
                raise Refused(t("error.uscc_chars"))
            return code
        case "phone":
            phone = "".join(c for c in text if c not in " -()")
            digits = phone.removeprefix("+")
            if not digits.isdigit() or not 7 <= len(digits) <= 15:
                raise Refused(t("error.phone"))
            return phone
        case "money" | "count":
            amount = number(text)
            if amount < 0:
                raise Refused(t("error.negative"))
            if amount > question.limit:
                raise Refused(t("error.too_large", max=t.number(question.limit)))
            if question.kind == "money":
                return amount
            if amount != amount.to_integral_value():
                raise Refused(t("error.not_whole"))
            return int(amount)
    key = "error.yes_no" if question.kind == "yes_no" else "error.choice"
    raise Refused(t(key))  # text where a button is expected


# ----------------------------------------------------------------------- what is shown


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


def answered_message(question: Question, shown: str) -> str:
    """The pressed question, rewritten to show the choice (its buttons go)."""
    return f"{question.text}\n→ <b>{shown}</b>"


@dataclass(frozen=True)
class Button:
    text: str
    action: str  # yes_no, pick, group, back
    value: str  # "1"/"0", an option, a group ("" for all groups), ""


def keyboard_rows(question: Question, group: str | None) -> list[list[Button]]:
    """A question's buttons, row by row; a navigation button on a row of its own at the
    end. The first question has none."""
    answers: list[Button] = []
    width = 1
    if question.kind == "yes_no":
        yes, no = t("button.yes"), t("button.no")
        answers = [Button(yes, "yes_no", "1"), Button(no, "yes_no", "0")]
        width = 2
    elif question.kind == "choice":
        answers = [Button(question.label(o), "pick", o) for o in question.options]
    elif question.kind == "cluster" and group is None:
        answers = [Button(t(f"cluster_group.{name}"), "group", name) for name in CLUSTERS]
    elif question.kind == "cluster":
        options = CLUSTERS[group or ""]
        answers = [Button(question.label(o), "pick", o) for o in options]
        width = 2 if len(options) > 4 else 1
    rows = [answers[i : i + width] for i in range(0, len(answers), width)]
    if group is not None:
        rows.append([Button(t("button.back_to_groups"), "group", "")])
    elif question is not QUESTIONS[0]:
        rows.append([Button(t("button.back"), "back", "")])
    return rows
