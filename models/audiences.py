"""Who a broadcast goes to: an audience (a kind, and for some kinds a value, as in
``flag:rd_ratio_low``), who is in it, and the counts the admin chooses from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, literal
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Application, ApplicationStatus, Channel, Flag, User, Verdict

# Who a broadcast goes to: a kind, and for some kinds a value ("flag:rd_ratio_low").
AUDIENCE_KINDS = ("all", "unfinished", "eligible", "flag", "event", "language")
AUDIENCE_WITH_VALUE = frozenset({"flag", "event", "language"})
ELIGIBLE_VERDICTS = (Verdict.ELIGIBLE, Verdict.ELIGIBLE_WITH_POINTS)


def on_telegram() -> Any:
    return col(User.channel) == Channel.TELEGRAM


def on_web() -> Any:
    return col(User.channel) == Channel.WEB


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


def email_usable() -> Any:
    """An address given for notices that has not failed for good."""
    return and_(col(User.email).is_not(None), col(User.email_failed).is_(None))


def recipients(audience: Audience, programme_id: str, route: Channel) -> Any:
    """The audience's users one route reaches, oldest first: (id, chat id, address)."""
    condition = _audience_condition(audience, programme_id)
    match route:
        case Channel.TELEGRAM:
            reached = and_(on_telegram(), col(User.unreachable_at).is_(None))
        case Channel.WEB:
            reached = on_web()
        case Channel.EMAIL:
            reached = email_usable()
        case _:
            raise ValueError(f"no route {route}")
    address = col(User.email) if route == Channel.EMAIL else literal(None)
    return (
        select(col(User.id), col(User.chat_id), address.label("address"))
        .where(condition, reached)
        .order_by(col(User.id))
    )


@dataclass(frozen=True)
class Reach:
    """Who a broadcast to an audience would reach, by route, and who it cannot, by why:
    ``blocked`` (Telegram said they blocked the bot or are gone), ``no_telegram`` (on
    Telegram, which this deployment does not serve), ``terminal`` (the operator's own
    console keeps no messages)."""

    routes: Counter[Channel]
    people: int
    unreached: Counter[str]

    @property
    def messages(self) -> int:
        return sum(self.routes.values())


async def reach(
    session: AsyncSession, audience: Audience, programme_id: str, routes: Collection[Channel]
) -> Reach:
    """The counts of ``recipients`` on each of ``routes``, and of the people none reaches."""
    alive = col(User.unreachable_at).is_(None).label("alive")
    mail = email_usable().label("mail")
    query = (
        select(col(User.channel), alive, mail, func.count())
        .where(_audience_condition(audience, programme_id))
        .group_by(col(User.channel), alive, mail)
    )
    on: Counter[Channel] = Counter()
    unreached: Counter[str] = Counter()
    people = 0
    for channel, telegram_alive, mail_ok, n in (await session.exec(query)).all():
        reached = set()
        if channel == Channel.TELEGRAM and telegram_alive and Channel.TELEGRAM in routes:
            reached.add(Channel.TELEGRAM)
        if channel == Channel.WEB and Channel.WEB in routes:
            reached.add(Channel.WEB)
        if mail_ok and Channel.EMAIL in routes:
            reached.add(Channel.EMAIL)
        on.update({route: int(n) for route in reached})
        if reached:
            people += int(n)
        elif channel == Channel.CONSOLE:
            unreached["terminal"] += int(n)
        elif channel == Channel.TELEGRAM and not telegram_alive:
            unreached["blocked"] += int(n)
        else:
            unreached["no_telegram"] += int(n)
    return Reach(on, people, unreached)


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


async def language_counts(session: AsyncSession, routes: Collection[Channel]) -> dict[str, int]:
    """The people a broadcast reaches in each language users speak."""
    query = select(col(User.locale)).distinct()
    locales = [str(locale) for locale in (await session.exec(query)).all()]
    return {
        locale: (await reach(session, Audience("language", locale), "", routes)).people
        for locale in locales
    }
