"""Who a broadcast goes to: an audience (a kind, and for some kinds a value, as in
``flag:rd_ratio_low``), who is in it, and the counts the admin chooses from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, literal
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Application, ApplicationStatus, Flag, User, Verdict

# Who a broadcast goes to: a kind, and for some kinds a value ("flag:rd_ratio_low").
AUDIENCE_KINDS = ("all", "unfinished", "eligible", "flag", "event", "language")
AUDIENCE_WITH_VALUE = frozenset({"flag", "event", "language"})
ELIGIBLE_VERDICTS = (Verdict.ELIGIBLE, Verdict.ELIGIBLE_WITH_POINTS)
# Web visitors have ids at or below -WEB_ID_BASE (bot.web_identity makes them): Telegram
# cannot reach them, so a broadcast neither counts them as recipients nor sends to them.
WEB_ID_BASE = 2**53


def on_telegram() -> Any:
    return col(User.id) > -WEB_ID_BASE


@dataclass(frozen=True)
class Audience:
    kind: str
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Audience:
        """``all``, ``eligible``, ``flag:<rule id>``, ``event:<id>``, ``language:<locale>``."""
        kind, _, value = text.strip().partition(":")
        if kind not in AUDIENCE_KINDS or (kind in AUDIENCE_WITH_VALUE) != bool(value):
            raise ValueError(f"unknown audience {text!r}")
        if kind == "event" and not value.isdigit():
            raise ValueError(f"unknown audience {text!r}")
        return cls(kind, value)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


def latest_submitted(programme_id: str) -> Any:
    """Each user's latest submitted application of the programme (its verdict counts)."""
    latest = (
        select(
            col(Application.user_id).label("user_id"),
            func.max(col(Application.version)).label("version"),
        )
        .where(
            col(Application.programme_id) == programme_id,
            col(Application.event_id).is_(None),
            col(Application.status) == ApplicationStatus.SUBMITTED,
        )
        .group_by(col(Application.user_id))
        .subquery()
    )
    return (
        select(col(Application.id).label("id"), col(Application.user_id).label("user_id"))
        .join(
            latest,
            and_(
                col(Application.user_id) == latest.c.user_id,
                col(Application.version) == latest.c.version,
            ),
        )
        .where(
            col(Application.programme_id) == programme_id,
            col(Application.event_id).is_(None),
            col(Application.status) == ApplicationStatus.SUBMITTED,
        )
        .subquery()
    )


def _audience_condition(audience: Audience, programme_id: str) -> Any:
    match audience.kind:
        case "all":
            return literal(True)
        case "unfinished":
            return col(User.id).in_(
                select(col(Application.user_id)).where(
                    col(Application.programme_id) == programme_id,
                    col(Application.event_id).is_(None),
                    col(Application.status) == ApplicationStatus.IN_PROGRESS,
                )
            )
        case "eligible":
            latest = latest_submitted(programme_id)
            return col(User.id).in_(
                select(latest.c.user_id)
                .join(Application, col(Application.id) == latest.c.id)
                .where(col(Application.verdict).in_(ELIGIBLE_VERDICTS))
            )
        case "flag":
            latest = latest_submitted(programme_id)
            return col(User.id).in_(
                select(latest.c.user_id)
                .join(Flag, col(Flag.application_id) == latest.c.id)
                .where(col(Flag.rule_id) == audience.value)
            )
        case "event":
            return col(User.id).in_(
                select(col(Application.user_id)).where(
                    col(Application.event_id) == int(audience.value)
                )
            )
        case "language":
            return col(User.locale) == audience.value
    raise ValueError(f"unknown audience {audience}")


def recipients(audience: Audience, programme_id: str) -> Any:
    """The Telegram users of the audience Telegram has not told us are gone, oldest first."""
    return (
        select(col(User.id), col(User.chat_id))
        .where(
            _audience_condition(audience, programme_id),
            on_telegram(),
            col(User.unreachable_at).is_(None),
        )
        .order_by(col(User.id))
    )


async def count_audience(
    session: AsyncSession, audience: Audience, programme_id: str
) -> tuple[int, int]:
    """(recipients reachable on Telegram, Telegram users of the audience left out as
    unreachable); web visitors are counted by ``count_web_visitors``."""
    condition = _audience_condition(audience, programme_id)
    reachable = func.count().filter(col(User.unreachable_at).is_(None))
    unreachable = func.count().filter(col(User.unreachable_at).is_not(None))
    query = select(reachable, unreachable).select_from(User).where(condition, on_telegram())
    row = (await session.exec(query)).one()
    return int(row[0]), int(row[1])


def web_visitors(audience: Audience, programme_id: str) -> Any:
    """The ids of the audience's web visitors, whom a Telegram message cannot reach."""
    return select(col(User.id)).where(_audience_condition(audience, programme_id), ~on_telegram())


async def count_web_visitors(session: AsyncSession, audience: Audience, programme_id: str) -> int:
    query = select(func.count()).select_from(web_visitors(audience, programme_id).subquery())
    return int((await session.exec(query)).one())


async def flag_counts(session: AsyncSession, programme_id: str) -> list[tuple[Flag, int]]:
    """Each rule that holds on someone's latest submitted application (one example flag,
    for its severity, clause and message), with how many; the most frequent first."""
    latest = latest_submitted(programme_id)
    query = (
        select(col(Flag.rule_id), func.count(), func.max(col(Flag.id)))
        .join(latest, col(Flag.application_id) == latest.c.id)
        .group_by(col(Flag.rule_id))
        .order_by(func.count().desc(), col(Flag.rule_id))
    )
    rows = (await session.exec(query)).all()
    examples = {
        f.rule_id: f
        for f in (
            await session.exec(select(Flag).where(col(Flag.id).in_([r[2] for r in rows])))
        ).all()
    }
    return [(examples[rule_id], int(n)) for rule_id, n, _ in rows]


async def language_counts(session: AsyncSession) -> dict[str, int]:
    query = (
        select(col(User.locale), func.count())
        .where(col(User.unreachable_at).is_(None), on_telegram())
        .group_by(col(User.locale))
    )
    return {locale: int(n) for locale, n in (await session.exec(query)).all()}
