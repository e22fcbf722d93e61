"""A web visitor's screen, stored: the replies to their last action, and the step its
forms answer.

A form carries the step it was shown at; the step is claimed (compare-and-set) before the
answer is handled, so a reload, a back button or a double tap, here or on another
process, never answers twice.

Claiming clears the screen until the answer's replies are saved: a process killed in
between (after the router stored the answer, or before) leaves no screen rather than the
old one, whose question the conversation may have left; the next page shows where the
conversation is instead (bot/web.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.types import Document, Reply
from models.tables import WebFile, WebHandoff, WebScreen, utcnow


@dataclass(frozen=True)
class ShownFile:
    token: str
    filename: str
    caption: str
    photo: bool


@dataclass(frozen=True)
class ShownReply:
    text: str
    buttons: list[list[tuple[str, str]]]  # rows of (label, data)
    file: ShownFile | None
    # It rewrites the message whose button was pressed (Reply.edit), as on Telegram: the
    # question with the answer given, say. Marked, so that it can be told apart.
    edit: bool = False


@dataclass(frozen=True)
class Screen:
    step: int
    replies: list[ShownReply]
    cut_short: bool = False  # claimed, never saved: the process died answering


async def load(sessions: async_sessionmaker[AsyncSession], user_id: int) -> Screen | None:
    async with sessions() as session:
        row = await session.get(WebScreen, user_id)
        if row is None:
            return None
        return Screen(row.step, [_shown(r) for r in row.replies or []], row.replies is None)


async def claim(sessions: async_sessionmaker[AsyncSession], user_id: int, step: int) -> bool:
    """Take the step a form was shown at; False when it was taken already (a reload)."""
    async with sessions() as session:
        if step == 0 and await session.get(WebScreen, user_id) is None:
            session.add(WebScreen(user_id=user_id, step=1, replies=None))
            await session.commit()
            return True
        result = await session.exec(
            update(WebScreen)
            .where(WebScreen.user_id == user_id, WebScreen.step == step)  # type: ignore[arg-type]
            .values(step=step + 1, replies=None)
        )
        await session.commit()
        return bool(result.rowcount)


async def save(
    sessions: async_sessionmaker[AsyncSession], user_id: int, replies: list[Reply]
) -> None:
    """Show these replies; the files of the screen before are gone with it."""
    async with sessions() as session:
        await session.exec(delete(WebFile).where(WebFile.user_id == user_id))  # type: ignore[arg-type]
        shown = []
        for reply in replies:
            file = reply.photo or reply.document
            stored = None if file is None else _store(session, user_id, file, reply.photo is file)
            shown.append(_record(reply, stored))
        row = await session.get(WebScreen, user_id)
        if row is None:
            row = WebScreen(user_id=user_id, step=1)
        row.replies, row.updated_at = shown, utcnow()
        session.add(row)
        await session.commit()


async def forget(sessions: async_sessionmaker[AsyncSession], user_id: int) -> None:
    """A visitor who deleted their data: their screen and files go too."""
    async with sessions() as session:
        await session.exec(delete(WebFile).where(WebFile.user_id == user_id))  # type: ignore[arg-type]
        await session.exec(delete(WebScreen).where(WebScreen.user_id == user_id))  # type: ignore[arg-type]
        await session.exec(delete(WebHandoff).where(WebHandoff.user_id == user_id))  # type: ignore[arg-type]
        await session.commit()


async def file_of(
    sessions: async_sessionmaker[AsyncSession], user_id: int, token: str
) -> WebFile | None:
    async with sessions() as session:
        found = await session.get(WebFile, token)
        return found if found is not None and found.user_id == user_id else None


def _store(session: AsyncSession, user_id: int, file: Document, photo: bool) -> ShownFile:
    token = secrets.token_urlsafe(16)
    session.add(WebFile(token=token, user_id=user_id, filename=file.filename, content=file.content))
    return ShownFile(token, file.filename, file.caption, photo)


def _record(reply: Reply, file: ShownFile | None) -> dict[str, Any]:
    return {
        "text": reply.text,
        "buttons": [[[b.text, b.data] for b in row] for row in reply.buttons],
        "file": None if file is None else file.__dict__,
        "edit": reply.edit,
    }


def _shown(record: dict[str, Any]) -> ShownReply:
    file = record.get("file")
    return ShownReply(
        text=str(record.get("text") or ""),
        buttons=[[(str(label), str(data)) for label, data in row] for row in record["buttons"]],
        file=None if file is None else ShownFile(**file),
        edit=bool(record.get("edit")),
    )


HANDOFF_MINUTES = 15


async def new_handoff(sessions: async_sessionmaker[AsyncSession], user_id: int) -> str:
    token = secrets.token_urlsafe(16)
    expires = utcnow() + timedelta(minutes=HANDOFF_MINUTES)
    async with sessions() as session:
        session.add(WebHandoff(token=token, user_id=user_id, expires_at=expires))
        await session.commit()
    return token


async def take_handoff(sessions: async_sessionmaker[AsyncSession], token: str) -> int | None:
    """The visitor a link moves, if it is still good; it is spent by the taking."""
    async with sessions() as session:
        found = await session.get(WebHandoff, token)
        if found is None or found.used_at is not None or found.expires_at <= utcnow():
            return None
        result = await session.exec(
            update(WebHandoff)
            .where(WebHandoff.token == token, WebHandoff.used_at.is_(None))  # type: ignore[arg-type,union-attr]
            .values(used_at=utcnow())
        )
        await session.commit()
        return found.user_id if result.rowcount else None


async def handoff_of(
    sessions: async_sessionmaker[AsyncSession], user_id: int, token: str
) -> WebHandoff | None:
    """The visitor's own unused link (for its QR code)."""
    async with sessions() as session:
        found = await session.get(WebHandoff, token)
        ok = found is not None and found.user_id == user_id and found.used_at is None
        return found if ok else None
