"""Which updates were handled (to recognise one Telegram sends again) and which groups
were told that the bot works in private chats only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import GroupNotice, HandledUpdate

# Statements of every update, built once (an expression costs more to build than to run);
# on the table, not the ORM class: nothing in a session needs to learn of these writes.
_TABLE = HandledUpdate.__table__  # type: ignore[attr-defined]
_RECORD = insert(_TABLE).values(
    bot_id=bindparam("bot"),
    update_id=bindparam("update"),
    handled_at=bindparam("now"),
    replies=bindparam("replies"),
)
_KEEP_UNSENT = (
    update(_TABLE)
    .where(_TABLE.c.bot_id == bindparam("bot"), _TABLE.c.update_id == bindparam("update"))
    .values(replies=bindparam("unsent"))
)
_ALL_SENT = (
    update(_TABLE)
    .where(
        _TABLE.c.bot_id == bindparam("bot"),
        _TABLE.c.update_id.in_(bindparam("updates", expanding=True)),
    )
    .values(replies=None)
)


@dataclass(frozen=True)
class Recorded:
    """What the database holds of an update handled before (it came again)."""

    handled_at: datetime
    # The replies stored with it and not (yet) marked sent: JSON, as
    # handlers/stored_replies.py wrote it. Its process may be sending them right now, or
    # have died before: ``handled_at`` tells a process started since that it died.
    unsent: list[Any] | None


async def record(
    session: AsyncSession, bot_id: int, update_id: int, now: datetime, replies: list[Any] | None
) -> None:
    """Record the update as handled now, with the replies it gets. Ids are compared for
    equality only: they do not always grow. Fails if the update was recorded before
    (``recorded`` then tells when)."""
    params = {"bot": bot_id, "update": update_id, "now": now, "replies": replies}
    connection = await session.connection()  # no ORM object to flush first
    await connection.execute(_RECORD, params)


async def recorded(session: AsyncSession, bot_id: int, update_id: int) -> Recorded | None:
    found = await session.get(HandledUpdate, (bot_id, update_id))
    return None if found is None else Recorded(found.handled_at, found.replies)


async def keep_unsent(
    session: AsyncSession, bot_id: int, update_id: int, replies: list[Any] | None
) -> None:
    """Only these of the stored replies are still to send (None: none; a redelivery now
    gets nothing)."""
    params = {"bot": bot_id, "update": update_id, "unsent": replies}
    await (await session.connection()).execute(_KEEP_UNSENT, params)


async def all_sent(session: AsyncSession, bot_id: int, update_ids: Iterable[int]) -> None:
    """The replies of these updates are all sent: a redelivery of one gets nothing."""
    params = {"bot": bot_id, "updates": sorted(update_ids)}
    await (await session.connection()).execute(_ALL_SENT, params)


async def forget_updates(session: AsyncSession, before: datetime) -> None:
    await session.exec(delete(HandledUpdate).where(col(HandledUpdate.handled_at) < before))


async def tell_group(session: AsyncSession, chat_id: int, now: datetime, since: datetime) -> bool:
    """Note that the group is told now; False when it was already told after ``since``."""
    found = await session.get(GroupNotice, chat_id)
    if found is not None:
        if found.told_at > since:
            return False
        found.told_at = now
    else:
        session.add(GroupNotice(chat_id=chat_id, told_at=now))
    try:
        await session.flush()
    except IntegrityError:  # another member's message in the same moment: told by it
        return False
    return True
