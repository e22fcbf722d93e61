"""Which updates were handled (to recognise one Telegram sends again) and which groups
were told that the bot works in private chats only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import GroupNotice, HandledUpdate


async def first_time(
    session: AsyncSession, bot_id: int, update_id: int, now: datetime, since: datetime
) -> bool:
    """Record the update as handled now; False when it was already handled after ``since``
    (a redelivery). Ids are compared for equality only: they do not always grow."""
    found = await session.get(HandledUpdate, (bot_id, update_id))
    if found is not None:
        if found.handled_at > since:
            return False
        found.handled_at = now  # the same id long ago: a new update that reuses it
    else:
        session.add(HandledUpdate(bot_id=bot_id, update_id=update_id, handled_at=now))
    try:
        await session.flush()  # another process handling it now waits here, then fails
    except IntegrityError:
        return False
    return True


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
