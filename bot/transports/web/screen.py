"""A web visitor's screen: the replies to their last step, as the core's outbox holds them
(handlers/kernel/outbox.py), and the step its forms answer.

Each visitor is a stream of the outbox whose numbers follow one another: a form carries
the step after the one shown, the core records it with the new state and the replies in
one transaction, and a step that is not the next one is a repeat — so a reload, a back
button or a double tap, here or on another process, never answers twice. A process
killed while answering committed all of it or nothing: the page shows the step before,
and its form still answers it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.kernel import stored_replies
from handlers.kernel.types import Document, Key, Reply
from models import broadcast_jobs, outbox, queries
from models.tables import WebHandoff, utcnow


def key(user_id: int, step: int) -> Key:
    """What recognises a form posted again: the visitor's step."""
    return Key(f"web:{user_id}", step, in_turn=True)


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
    step: int  # the step its forms answer: the one after the step it shows
    replies: list[ShownReply]


@dataclass(frozen=True)
class Page:
    screen: Screen
    locale: str | None  # the visitor's, None if they have no user (any more)
    notices: list[broadcast_jobs.Notice]  # the office's, in their inbox until dismissed


def screen(shown_step: int, replies: list[Reply]) -> Screen:
    """The screen of the step ``shown_step``: a file is downloadable by its step and place
    (``/f/3.1``), until the next step replaces it."""
    return Screen(shown_step + 1, [_shown(r, shown_step, i) for i, r in enumerate(replies)])


async def page(sessions: async_sessionmaker[AsyncSession], user_id: int) -> Page | None:
    """The visitor's screen, language and notices, in one transaction; None before their
    first step."""
    async with sessions() as session:
        found = await outbox.last(session, key(user_id, 0).stream)
        if found is None:
            return None
        user = await queries.get_user(session, user_id)
        notices = await broadcast_jobs.inbox(session, user_id)
        await session.commit()  # shown: delivered
    shown = screen(found.number, stored_replies.decode(found.replies or []))
    return Page(shown, None if user is None else user.locale, notices)


async def step(sessions: async_sessionmaker[AsyncSession], user_id: int) -> int:
    """The step the visitor's forms answer now."""
    async with sessions() as session:
        found = await outbox.last(session, key(user_id, 0).stream)
    return 1 if found is None else found.number + 1


async def file_of(
    sessions: async_sessionmaker[AsyncSession], user_id: int, token: str
) -> Document | None:
    """A file on the visitor's screen, by its token (``step.place``)."""
    number, _, place = token.partition(".")
    if not (number.isascii() and number.isdigit() and place.isascii() and place.isdigit()):
        return None
    async with sessions() as session:
        found = await outbox.last(session, key(user_id, 0).stream)
    if found is None or found.number != int(number) or not found.replies:
        return None
    replies = stored_replies.decode(found.replies)
    if int(place) >= len(replies):
        return None
    return replies[int(place)].photo or replies[int(place)].document


def _shown(reply: Reply, shown_step: int, place: int) -> ShownReply:
    file = reply.photo or reply.document
    token = f"{shown_step}.{place}"
    return ShownReply(
        text=reply.text,
        buttons=[[(b.text, b.data) for b in row] for row in reply.buttons],
        file=None
        if file is None
        else ShownFile(token, file.filename, file.caption, reply.photo is file),
        edit=reply.edit,
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


@dataclass(frozen=True)
class Handed:
    """What a handoff link would move to this browser, as its page says before it is
    taken: whose conversation, the company name so far, how many steps along."""

    user_id: int
    company: str | None
    steps: int


async def handed(
    sessions: async_sessionmaker[AsyncSession], token: str, programme_id: str
) -> Handed | None:
    """The conversation an unused, unexpired link moves (a read: looking uses nothing up)."""
    async with sessions() as session:
        found = await session.get(WebHandoff, token[:64])
        if found is None or found.used_at is not None or found.expires_at <= utcnow():
            return None
        last = await outbox.last(session, key(found.user_id, 0).stream)
        latest = await queries.latest_application(session, found.user_id, programme_id)
        company = None
        if latest is not None and latest.id is not None:
            answer = (await queries.current_answers(session, latest.id)).get("enterprise_name")
            company = str(answer.value) if answer is not None and answer.value else None
    return Handed(found.user_id, company, 0 if last is None else last.number)


async def handoff_of(
    sessions: async_sessionmaker[AsyncSession], user_id: int, token: str
) -> WebHandoff | None:
    """The visitor's own unused link (for its QR code)."""
    async with sessions() as session:
        found = await session.get(WebHandoff, token)
        ok = found is not None and found.user_id == user_id and found.used_at is None
        return found if ok else None
