"""Broadcast jobs and their recipient rows: created with the audience as it is, then
claimed, sent, recorded and finished by the delivery runner that holds the job's lease."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, literal, or_, update
from sqlalchemy import select as core_select  # more columns than sqlmodel's select types
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audiences import Audience, recipients
from models.tables import (
    Broadcast,
    BroadcastRecipient,
    Channel,
    JobStatus,
    RecipientState,
    User,
    utcnow,
)

# By their short names, as the delivery runner and the chat say them.
PENDING, SENDING, SENT = RecipientState.PENDING, RecipientState.SENDING, RecipientState.SENT
FAILED, BLOCKED = RecipientState.FAILED, RecipientState.BLOCKED
# A web visitor's copy, in their inbox until a page shows it (then SENT, sent_at: when).
INBOX = RecipientState.INBOX
RUNNING, PAUSED = JobStatus.RUNNING, JobStatus.PAUSED
CANCELLED, DONE = JobStatus.CANCELLED, JobStatus.DONE


async def create_broadcast(
    session: AsyncSession,
    broadcast: Broadcast,
    audience: Audience,
    programme_id: str,
    routes: Collection[Channel],
) -> Broadcast:
    """The job and, in the same transaction, one row per recipient and route: the audience
    as it is now (the preview's count may have moved since). A web visitor's row is their
    inbox's copy, there already; the others wait for the delivery runner."""
    broadcast.audience = str(audience)
    broadcast.status = RUNNING
    session.add(broadcast)
    await session.flush()
    columns = ["broadcast_id", "user_id", "chat_id", "address", "channel", "state", "attempts"]
    for route in routes:
        chosen = recipients(audience, programme_id, route).subquery()
        state = INBOX if route == Channel.WEB else PENDING
        rows = core_select(
            literal(broadcast.id),
            chosen.c.id,
            chosen.c.chat_id,
            chosen.c.address,
            literal(route.value),
            literal(state.value),  # the plain string: a literal has no column type to say it
            literal(0),
        )
        await session.exec(insert(BroadcastRecipient).from_select(columns, rows))
    broadcast.total = await _count(session, broadcast)
    session.add(broadcast)
    await session.flush()
    return broadcast


async def _count(session: AsyncSession, broadcast: Broadcast) -> int:
    query = select(func.count()).where(
        col(BroadcastRecipient.broadcast_id) == broadcast.id,
    )
    return int((await session.exec(query)).one())


async def get_broadcast(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id, populate_existing=True)


async def job_state(
    session: AsyncSession, broadcast_id: int
) -> tuple[JobStatus, str | None] | None:
    """(status, runner) of a job: what a runner checks before each wave, without loading
    the job (its text, its file) again."""
    query = select(Broadcast.status, Broadcast.runner).where(col(Broadcast.id) == broadcast_id)
    row = (await session.exec(query)).first()
    return None if row is None else (JobStatus(row[0]), row[1])


async def recent_broadcasts(session: AsyncSession, limit: int) -> list[Broadcast]:
    query = select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def state_counts(
    session: AsyncSession, broadcast_ids: Iterable[int]
) -> dict[int, Counter[str]]:
    """Recipients per state, per broadcast."""
    ids = list(broadcast_ids)
    query = (
        select(col(BroadcastRecipient.broadcast_id), col(BroadcastRecipient.state), func.count())
        .where(col(BroadcastRecipient.broadcast_id).in_(ids))
        .group_by(col(BroadcastRecipient.broadcast_id), col(BroadcastRecipient.state))
    )
    counts: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for broadcast_id, state, n in (await session.exec(query)).all():
        counts[broadcast_id][state] = int(n)
    return counts


async def failure_reasons(
    session: AsyncSession, broadcast_id: int, limit: int
) -> list[tuple[str, int]]:
    query = (
        select(col(BroadcastRecipient.error), func.count())
        .where(
            col(BroadcastRecipient.broadcast_id) == broadcast_id,
            col(BroadcastRecipient.state) == FAILED,
        )
        .group_by(col(BroadcastRecipient.error))
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [(error or "", int(n)) for error, n in (await session.exec(query)).all()]


async def set_status(
    session: AsyncSession,
    broadcast_id: int,
    status: JobStatus,
    allowed_from: Sequence[JobStatus],
) -> Broadcast | None:
    """Move a job to ``status`` if it is in one of ``allowed_from``; the job, or None."""
    result = await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.status).in_(allowed_from))
        .values(status=status)
    )
    if result.rowcount != 1:
        return None
    return await get_broadcast(session, broadcast_id)


# -- the delivery runner's side: a job is worked on by one runner at a time (a lease it
# renews in every write), and every recipient row is claimed before its message is sent.


async def take_job(
    session: AsyncSession,
    runner: str,
    lease: timedelta,
    dead: Callable[[str], bool],
    channels: Collection[Channel],
) -> Broadcast | None:
    """The oldest running job nobody else holds (unclaimed, its lease run out, or held by
    a runner known to be dead) and whose messages still to send all go on ``channels``,
    the routes this runner can send on. Claimed for ``runner`` (compare-and-set on the
    holder)."""
    now = utcnow()
    elsewhere = (
        select(col(BroadcastRecipient.id))
        .where(
            col(BroadcastRecipient.broadcast_id) == col(Broadcast.id),
            col(BroadcastRecipient.state).in_((PENDING, SENDING)),
            col(BroadcastRecipient.channel).not_in([c.value for c in channels]),
        )
        .exists()
    )
    query = (
        select(Broadcast)
        .where(col(Broadcast.status) == RUNNING, ~elsewhere)
        .order_by(col(Broadcast.id))
    )
    for job in (await session.exec(query)).all():
        holder = job.runner
        free = (
            holder is None
            or holder == runner
            or job.lease_until is None
            or job.lease_until < now
            or dead(holder)
        )
        if not free:
            continue
        same_holder = (
            col(Broadcast.runner).is_(None) if holder is None else col(Broadcast.runner) == holder
        )
        result = await session.exec(
            update(Broadcast)
            .where(col(Broadcast.id) == job.id, col(Broadcast.status) == RUNNING, same_holder)
            .values(
                runner=runner,
                lease_until=now + lease,
                started_at=job.started_at or now,
                # From now on its status message shows progress: a later pause must be shown.
                shown_status=RUNNING,
            )
        )
        if result.rowcount == 1:
            await session.commit()
            return await get_broadcast(session, job.id)  # type: ignore[arg-type]
    return None


async def renew(session: AsyncSession, broadcast_id: int, runner: str, lease: timedelta) -> bool:
    """Extend the lease, in the caller's transaction; False: another runner holds the job."""
    result = await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.runner) == runner)
        .values(lease_until=utcnow() + lease)
    )
    return result.rowcount == 1


async def release(session: AsyncSession, broadcast_id: int, runner: str) -> None:
    await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.runner) == runner)
        .values(runner=None, lease_until=None)
    )


async def resolve_in_flight(session: AsyncSession, broadcast_id: int, reason: str) -> int:
    """Rows a dead runner had claimed but not recorded: whether Telegram delivered them is
    unknown, so they are not sent again (failed, with the reason)."""
    result = await session.exec(
        update(BroadcastRecipient)
        .where(
            col(BroadcastRecipient.broadcast_id) == broadcast_id,
            col(BroadcastRecipient.state) == SENDING,
        )
        .values(state=FAILED, error=reason)
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class Due:
    id: int
    user_id: int
    chat_id: int
    attempts: int
    channel: Channel = Channel.TELEGRAM
    address: str | None = None  # an e-mail recipient's


async def due_recipients(session: AsyncSession, broadcast_id: int, limit: int) -> list[Due]:
    now = utcnow()
    query = (
        core_select(
            col(BroadcastRecipient.id),
            col(BroadcastRecipient.user_id),
            col(BroadcastRecipient.chat_id),
            col(BroadcastRecipient.attempts),
            col(BroadcastRecipient.channel),
            col(BroadcastRecipient.address),
        )
        .where(
            col(BroadcastRecipient.broadcast_id) == broadcast_id,
            col(BroadcastRecipient.state) == PENDING,
            or_(
                col(BroadcastRecipient.next_attempt_at).is_(None),
                col(BroadcastRecipient.next_attempt_at) <= now,
            ),
        )
        .order_by(col(BroadcastRecipient.id))
        .limit(limit)
    )
    connection = await session.connection()  # a plain Core select: rows, not models
    rows = (await connection.execute(query)).all()
    return [
        Due(int(id_ or 0), user_id, chat_id, attempts, Channel(channel), address)
        for id_, user_id, chat_id, attempts, channel, address in rows
    ]


async def next_due_at(session: AsyncSession, broadcast_id: int) -> datetime | None:
    """When the earliest pending recipient waiting for a retry is due (None: none waits)."""
    query = select(func.min(col(BroadcastRecipient.next_attempt_at))).where(
        col(BroadcastRecipient.broadcast_id) == broadcast_id,
        col(BroadcastRecipient.state) == PENDING,
    )
    value = (await session.exec(query)).one()
    return value if isinstance(value, datetime) else None


async def claim(session: AsyncSession, broadcast_id: int, ids: Sequence[int]) -> int:
    """Mark rows in flight (the caller commits this before sending anything)."""
    result = await session.exec(
        update(BroadcastRecipient)
        .where(col(BroadcastRecipient.id).in_(ids), col(BroadcastRecipient.state) == PENDING)
        .values(state=SENDING)
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed recipient: sent, failed, blocked, or back to pending."""

    recipient: Due
    state: RecipientState
    error: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None


async def record(session: AsyncSession, outcomes: Sequence[Outcome]) -> None:
    """Store the outcomes of a wave of sends (the caller commits, with its lease renewal)."""
    now = utcnow()
    sent = [o.recipient.id for o in outcomes if o.state == SENT]
    if sent:
        await session.exec(
            update(BroadcastRecipient)
            .where(col(BroadcastRecipient.id).in_(sent), col(BroadcastRecipient.state) == SENDING)
            .values(state=SENT, sent_at=now, error=None)
        )
    for o in outcomes:
        if o.state == SENT:
            continue
        await session.exec(
            update(BroadcastRecipient)
            .where(
                col(BroadcastRecipient.id) == o.recipient.id,
                col(BroadcastRecipient.state) == SENDING,
            )
            .values(
                state=o.state,
                error=o.error,
                attempts=o.attempts,
                next_attempt_at=o.next_attempt_at,
            )
        )
    on_telegram = [o.recipient.user_id for o in outcomes if o.state == BLOCKED
                   and o.recipient.channel == Channel.TELEGRAM]  # fmt: skip
    if on_telegram:
        await session.exec(
            update(User).where(col(User.id).in_(on_telegram)).values(unreachable_at=now)
        )
    for o in outcomes:  # an address that failed for good is not used again, with why
        if o.state == BLOCKED and o.recipient.channel == Channel.EMAIL:
            await session.exec(
                update(User)
                .where(col(User.id) == o.recipient.user_id, col(User.email) == o.recipient.address)
                .values(email_failed=o.error or "")
            )


async def finish(session: AsyncSession, broadcast_id: int, runner: str) -> bool:
    """Done, if nothing is left to send and the job is still running under this runner."""
    left = select(func.count()).where(
        col(BroadcastRecipient.broadcast_id) == broadcast_id,
        col(BroadcastRecipient.state).in_((PENDING, SENDING)),
    )
    if int((await session.exec(left)).one()):
        return False
    result = await session.exec(
        update(Broadcast)
        .where(
            col(Broadcast.id) == broadcast_id,
            col(Broadcast.runner) == runner,
            col(Broadcast.status) == RUNNING,
        )
        .values(status=DONE, finished_at=utcnow(), runner=None, lease_until=None)
    )
    return result.rowcount == 1


async def media_uploaded(session: AsyncSession, broadcast_id: int, file_id: str) -> None:
    """Telegram holds the file now: the rest go by its id, the bytes are not kept."""
    await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id)
        .values(media_file_id=file_id, media_content=None)
    )


async def status_message_sent(
    session: AsyncSession, broadcast_id: int, message_id: int, status: JobStatus
) -> None:
    await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id)
        .values(status_message_id=message_id, shown_status=status)
    )


async def status_shown(session: AsyncSession, broadcast_id: int, status: JobStatus) -> None:
    await session.exec(
        update(Broadcast).where(col(Broadcast.id) == broadcast_id).values(shown_status=status)
    )


async def unshown(session: AsyncSession) -> list[Broadcast]:
    """Jobs whose status message does not say their status yet (paused, cancelled, done
    while no runner was on them)."""
    query = select(Broadcast).where(
        col(Broadcast.status_message_id).is_not(None),
        col(Broadcast.status) != RUNNING,
        or_(
            col(Broadcast.shown_status).is_(None),
            col(Broadcast.shown_status) != col(Broadcast.status),
        ),
    )
    return list((await session.exec(query)).all())


# -- the web inbox: a visitor's copies of broadcasts, kept until dismissed.


@dataclass(frozen=True)
class Notice:
    """One broadcast in a web visitor's inbox."""

    id: int  # the recipient row's: what a dismissal names
    text: str  # Telegram HTML, checked as the job was queued
    sent_at: datetime  # when the office sent it (the job was queued)


async def inbox(session: AsyncSession, user_id: int) -> list[Notice]:
    """The visitor's notices not dismissed, newest first; those not shown before count as
    delivered now (commit to make it so)."""
    query = (
        select(
            col(BroadcastRecipient.id),
            col(Broadcast.text),
            col(Broadcast.created_at),
        )
        .join(Broadcast, col(Broadcast.id) == col(BroadcastRecipient.broadcast_id))
        .where(
            col(BroadcastRecipient.user_id) == user_id,
            col(BroadcastRecipient.channel) == Channel.WEB,
            col(BroadcastRecipient.dismissed_at).is_(None),
            col(Broadcast.status).in_((RUNNING, DONE)),  # not while paused, nor once cancelled
        )
        .order_by(col(BroadcastRecipient.id).desc())
    )
    rows = (await session.exec(query)).all()
    if rows:
        await session.exec(
            update(BroadcastRecipient)
            .where(
                col(BroadcastRecipient.id).in_([r[0] for r in rows]),
                col(BroadcastRecipient.state) == INBOX,
            )
            .values(state=SENT, sent_at=utcnow())
        )
    return [Notice(int(i or 0), text, at) for i, text, at in rows]


async def dismiss(session: AsyncSession, user_id: int, notice_id: int) -> bool:
    """Take a notice out of the visitor's inbox (theirs only); whether it was there."""
    result = await session.exec(
        update(BroadcastRecipient)
        .where(
            col(BroadcastRecipient.id) == notice_id,
            col(BroadcastRecipient.user_id) == user_id,
            col(BroadcastRecipient.channel) == Channel.WEB,
            col(BroadcastRecipient.dismissed_at).is_(None),
        )
        .values(dismissed_at=utcnow())
    )
    return result.rowcount == 1
