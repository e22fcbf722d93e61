"""Which updates were handled (to recognise one Telegram sends again) and which groups
were told that the bot works in private chats only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import GroupNotice, HandledUpdate


@dataclass(frozen=True)
class Delivery:
    """What the database knows of an update that comes in."""

    first: bool  # not handled (or so long ago that the id is a new update's): handle it
    # Handled, and the replies stored with it not (yet) marked sent: JSON, as
    # handlers/stored_replies.py wrote it. Its process may be sending them right now, or
    # have died before: ``handled_at`` tells a process started since that it died.
    unsent: list[Any] | None = None
    handled_at: datetime | None = None


async def first_time(
    session: AsyncSession, bot_id: int, update_id: int, now: datetime, since: datetime
) -> Delivery:
    """Record the update as handled now, unless it was already handled after ``since`` (a
    redelivery). Ids are compared for equality only: they do not always grow."""
    found = await session.get(HandledUpdate, (bot_id, update_id))
    if found is not None:
        if found.handled_at > since:
            return Delivery(first=False, unsent=found.replies, handled_at=found.handled_at)
        found.handled_at = now  # the same id long ago: a new update that reuses it
        found.replies = None
    else:
        session.add(HandledUpdate(bot_id=bot_id, update_id=update_id, handled_at=now))
    try:
        await session.flush()  # another process handling it now waits here, then fails
    except IntegrityError:
        return Delivery(first=False)  # that process sends the replies, not this one
    return Delivery(first=True)


async def keep_replies(
    session: AsyncSession, bot_id: int, update_id: int, replies: list[Any]
) -> None:
    """Store the replies with the update recorded by ``first_time`` in this transaction."""
    found = await session.get(HandledUpdate, (bot_id, update_id))  # no query: in the session
    if found is not None:
        found.replies = replies


async def keep_unsent(
    session: AsyncSession, bot_id: int, update_id: int, replies: list[Any] | None
) -> None:
    """Only these of the stored replies are still to send (None: none; a redelivery now
    gets nothing)."""
    await session.exec(
        update(HandledUpdate)
        .where(col(HandledUpdate.bot_id) == bot_id, col(HandledUpdate.update_id) == update_id)
        .values(replies=replies)
    )


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
