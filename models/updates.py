"""Which groups were told that the bot works in private chats only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import GroupNotice


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
