"""Broadcasts for web visitors: Telegram cannot deliver to them, so the text waits here
and the chat page shows it once, on their next visit."""

from __future__ import annotations

from sqlalchemy import insert, literal
from sqlalchemy import select as core_select
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audiences import Audience, web_visitors
from models.tables import WebNotice, utcnow


async def leave(session: AsyncSession, audience: Audience, programme_id: str, text: str) -> None:
    """A notice for each web visitor of the audience as it is now (the job's transaction)."""
    visitors = web_visitors(audience, programme_id).subquery()
    rows = core_select(visitors.c.id, literal(text), literal(utcnow()))
    columns = ["user_id", "text", "created_at"]
    await session.exec(insert(WebNotice).from_select(columns, rows))


async def take(session: AsyncSession, user_id: int) -> list[str]:
    """The visitor's notices, oldest first, gone once taken (commit to make it so)."""
    query = select(WebNotice).where(col(WebNotice.user_id) == user_id).order_by(col(WebNotice.id))
    notices = list((await session.exec(query)).all())
    if notices:
        ids = [n.id for n in notices]
        await session.exec(delete(WebNotice).where(col(WebNotice.id).in_(ids)))
    return [n.text for n in notices]
