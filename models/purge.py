"""What a running bot clears away, so storage does not grow from what nobody needs any
more: one-time links used or expired (a visitor's handoff, an officer's sign-in), officer
sessions past their end, and web visitors who never answered anything, once a retention
period (VISITOR_RETENTION_DAYS) has passed since they came — erased as /delete erases.

Nothing here touches what the office reports: applications, survey responses, check-in
cards and broadcast counts of people who answered stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import queries
from models.tables import (
    Admin,
    Answer,
    Application,
    Channel,
    CheckIn,
    OfficerLink,
    OfficerSession,
    User,
    WebHandoff,
)

BATCH = 500  # visitors erased in one transaction: a big backlog goes in several


@dataclass(frozen=True)
class Purged:
    links: int
    sessions: int
    visitors: int


async def spent_links(session: AsyncSession, now: datetime) -> int:
    """Handoff and sign-in links that were used or have expired."""
    handoffs = await session.exec(
        delete(WebHandoff).where(
            or_(col(WebHandoff.used_at).is_not(None), col(WebHandoff.expires_at) <= now)
        )
    )
    signins = await session.exec(
        delete(OfficerLink).where(
            or_(col(OfficerLink.used_at).is_not(None), col(OfficerLink.expires_at) <= now)
        )
    )
    return int(handoffs.rowcount) + int(signins.rowcount)


async def ended_sessions(session: AsyncSession, now: datetime) -> int:
    result = await session.exec(delete(OfficerSession).where(col(OfficerSession.expires_at) <= now))
    return int(result.rowcount)


async def idle_visitors(session: AsyncSession, before: datetime, limit: int = BATCH) -> list[int]:
    """Web visitors who came before ``before`` and gave nothing: no answer to any form (an
    interview opened and left empty is nothing), no e-mail address, no check-in card, no
    admin rights."""
    answered = (
        exists()
        .where(col(Answer.application_id) == col(Application.id))
        .where(col(Application.user_id) == col(User.id))
    )
    query = (
        select(User.id)
        .where(
            col(User.channel) == Channel.WEB,
            col(User.created_at) < before,
            col(User.email).is_(None),
            ~answered,
            ~exists().where(col(CheckIn.user_id) == col(User.id)),
            ~exists().where(col(Admin.user_id) == col(User.id)),
        )
        .limit(limit)
    )
    return [int(user_id) for user_id in (await session.exec(query)).all()]


async def purge(session: AsyncSession, now: datetime, visitor_retention: timedelta) -> Purged:
    """One pass (the caller commits): spent links, ended sessions, and a batch of idle
    visitors with everything of theirs (their screen, inbox, handoff links)."""
    links = await spent_links(session, now)
    sessions = await ended_sessions(session, now)
    visitors = await idle_visitors(session, now - visitor_retention)
    for user_id in visitors:
        await queries.delete_user(session, user_id)
    return Purged(links, sessions, len(visitors))
