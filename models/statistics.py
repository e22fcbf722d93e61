"""Statistics and exports of a programme: the admins' overview, and every application,
answer and flag in one query each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audiences import latest_submitted
from models.tables import Answer, Application, ApplicationStatus, Flag, User


@dataclass
class Overview:
    users: int
    unreachable: int
    by_language: dict[str, int]
    started: int  # users with an application of the programme
    finished: int  # users with a submitted one
    verdicts: Counter[str]  # of each user's latest submitted application
    clusters: dict[str, Counter[str]]  # answer → verdicts, for one question


async def overview(session: AsyncSession, programme_id: str, by_question: str) -> Overview:
    users = (await session.exec(select(func.count()).select_from(User))).one()
    unreachable = (
        await session.exec(select(func.count()).where(col(User.unreachable_at).is_not(None)))
    ).one()
    by_language = {
        locale: int(n)
        for locale, n in (
            await session.exec(select(col(User.locale), func.count()).group_by(col(User.locale)))
        ).all()
    }
    programme = and_(
        col(Application.programme_id) == programme_id, col(Application.event_id).is_(None)
    )
    started = (
        await session.exec(
            select(func.count(func.distinct(col(Application.user_id)))).where(programme)
        )
    ).one()
    finished = (
        await session.exec(
            select(func.count(func.distinct(col(Application.user_id)))).where(
                programme, col(Application.status) == ApplicationStatus.SUBMITTED
            )
        )
    ).one()
    latest = latest_submitted(programme_id)
    verdict_rows = (
        await session.exec(
            select(col(Application.verdict), func.count())
            .join(latest, col(Application.id) == latest.c.id)
            .group_by(col(Application.verdict))
        )
    ).all()
    verdicts = Counter({str(v): int(n) for v, n in verdict_rows})
    # Counted here, not grouped in SQL: PostgreSQL cannot group a JSON column.
    cluster_rows = (
        await session.exec(
            select(col(Answer.value), col(Application.verdict))
            .join(latest, col(Answer.application_id) == latest.c.id)
            .join(Application, col(Application.id) == latest.c.id)
            .where(col(Answer.question_id) == by_question, col(Answer.superseded_at).is_(None))
        )
    ).all()
    clusters: dict[str, Counter[str]] = {}
    for value, verdict in cluster_rows:
        clusters.setdefault(str(value), Counter())[str(verdict)] += 1
    return Overview(
        int(users), int(unreachable), by_language, int(started), int(finished), verdicts, clusters
    )


async def programme_applications(session: AsyncSession, programme_id: str) -> list[Application]:
    query = (
        select(Application)
        .where(Application.programme_id == programme_id, col(Application.event_id).is_(None))
        .order_by(col(Application.id))
    )
    return list((await session.exec(query)).all())


def _of_programme(programme_id: str) -> Any:
    return select(col(Application.id)).where(
        col(Application.programme_id) == programme_id, col(Application.event_id).is_(None)
    )


async def programme_answers(session: AsyncSession, programme_id: str) -> dict[int, dict[str, Any]]:
    """application id → {question id: stored value} of the current answers, in one query."""
    query = select(col(Answer.application_id), col(Answer.question_id), col(Answer.value)).where(
        col(Answer.application_id).in_(_of_programme(programme_id)),
        col(Answer.superseded_at).is_(None),
    )
    answers: dict[int, dict[str, Any]] = {}
    for application_id, question_id, value in (await session.exec(query)).all():
        answers.setdefault(application_id, {})[question_id] = value
    return answers


async def programme_flags(session: AsyncSession, programme_id: str) -> dict[int, list[Flag]]:
    query = (
        select(Flag)
        .where(col(Flag.application_id).in_(_of_programme(programme_id)))
        .order_by(col(Flag.id))
    )
    flags: dict[int, list[Flag]] = {}
    for flag in (await session.exec(query)).all():
        flags.setdefault(flag.application_id, []).append(flag)
    return flags


async def all_users(session: AsyncSession) -> list[User]:
    return list((await session.exec(select(User).order_by(col(User.id)))).all())
