"""The reads behind the office pages' tables: users by language and channel, and the
applications of a programme one page at a time, filtered and sorted in SQL.

A page is ``ORDER BY <sort>, id DESC LIMIT n OFFSET k`` over the programme's
applications: the default order (newest first) walks the primary key; filters by
verdict, flag and cluster are conditions on the same scan (EXISTS on flag and answer,
both indexed by application id). The enterprise names and flag counts are then read for
that page's rows only.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, cast, exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Answer, Application, Channel, Draft, Flag, User

SORTS = ("new", "old", "submitted", "verdict")


async def users_by_language_and_channel(session: AsyncSession) -> Counter[tuple[str, Channel]]:
    """(locale, channel) → users."""
    by = (col(User.locale), col(User.channel))
    rows = (await session.exec(select(*by, func.count()).group_by(*by))).all()
    return Counter({(str(locale), Channel(channel)): int(n) for locale, channel, n in rows})


@dataclass(frozen=True)
class Filters:
    verdict: str = ""
    flag: str = ""  # a rule id
    cluster: str = ""  # the answer as stored (JSON text), as cluster_values gives it
    sort: str = "new"


@dataclass(frozen=True)
class Row:
    application: Application
    name: str | None  # the enterprise's name, as answered
    flags: int


def _current_answer(question_id: str) -> Any:
    return and_(
        col(Answer.application_id) == col(Application.id),
        col(Answer.question_id) == question_id,
        col(Answer.superseded_at).is_(None),
    )


def _where(programme_id: str, filters: Filters, cluster_question: str) -> list[Any]:
    where: list[Any] = [
        col(Application.programme_id) == programme_id,
        col(Application.event_id).is_(None),
    ]
    if filters.verdict:
        where.append(col(Application.verdict) == filters.verdict)
    if filters.flag:
        where.append(
            exists().where(
                col(Flag.application_id) == col(Application.id), col(Flag.rule_id) == filters.flag
            )
        )
    if filters.cluster:
        where.append(
            exists().where(
                _current_answer(cluster_question),
                cast(col(Answer.value), Text) == filters.cluster,
            )
        )
    return where


def _order(sort: str) -> list[Any]:
    match sort:
        case "old":
            return [col(Application.id)]
        case "submitted":
            return [col(Application.submitted_at).desc().nulls_last(), col(Application.id).desc()]
        case "verdict":
            return [col(Application.verdict).nulls_last(), col(Application.id).desc()]
    return [col(Application.id).desc()]


async def count_applications(
    session: AsyncSession, programme_id: str, filters: Filters, cluster_question: str
) -> int:
    where = _where(programme_id, filters, cluster_question)
    return int(
        (await session.exec(select(func.count()).select_from(Application).where(*where))).one()
    )


async def applications_page(
    session: AsyncSession,
    programme_id: str,
    filters: Filters,
    *,
    limit: int,
    offset: int,
    name_question: str,
    cluster_question: str,
) -> list[Row]:
    """One page of the programme's applications (not event surveys)."""
    where = _where(programme_id, filters, cluster_question)
    query = select(Application).where(*where).order_by(*_order(filters.sort))
    applications = list((await session.exec(query.limit(limit).offset(offset))).all())
    ids = [a.id for a in applications]
    names = {
        application_id: value
        for application_id, value in (
            await session.exec(
                select(col(Answer.application_id), col(Answer.value)).where(
                    col(Answer.application_id).in_(ids),
                    col(Answer.question_id) == name_question,
                    col(Answer.superseded_at).is_(None),
                )
            )
        ).all()
    }
    flags = {
        application_id: int(n)
        for application_id, n in (
            await session.exec(
                select(col(Flag.application_id), func.count())
                .where(col(Flag.application_id).in_(ids))
                .group_by(col(Flag.application_id))
            )
        ).all()
    }
    return [
        Row(
            a,
            None if names.get(a.id or 0) is None else str(names[a.id or 0]),
            flags.get(a.id or 0, 0),
        )
        for a in applications
    ]


async def cluster_values(
    session: AsyncSession, programme_id: str, question_id: str
) -> list[tuple[str, Any]]:
    """(the stored JSON text, the value) of every distinct answer to the cluster question."""
    text = cast(col(Answer.value), Text)
    query = (
        select(text)
        .join(Application, col(Application.id) == col(Answer.application_id))
        .where(
            col(Application.programme_id) == programme_id,
            col(Answer.question_id) == question_id,
            col(Answer.superseded_at).is_(None),
        )
        .group_by(text)
        .order_by(text)
    )
    return [(str(found), json.loads(found)) for found in (await session.exec(query)).all()]


async def flag_rules(session: AsyncSession, programme_id: str) -> list[str]:
    """Every rule that flagged an application of the programme."""
    query = (
        select(col(Flag.rule_id))
        .join(Application, col(Application.id) == col(Flag.application_id))
        .where(col(Application.programme_id) == programme_id)
        .distinct()
        .order_by(col(Flag.rule_id))
    )
    return [str(r) for r in (await session.exec(query)).all()]


async def drafts_of(session: AsyncSession, application_id: int) -> list[Draft]:
    """The drafts made of an application, newest first."""
    query = (
        select(Draft).where(Draft.application_id == application_id).order_by(col(Draft.id).desc())
    )
    return list((await session.exec(query)).all())
