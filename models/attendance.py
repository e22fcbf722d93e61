"""Check-in cards (签到) of training events: issued from the office's list of attendees,
used once, and the counts the satisfaction report states beside its figure (回收率)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, func, literal, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Application, ApplicationStatus, CheckIn, utcnow

# Codes read off a card and typed on a phone: no 0/O, 1/I/L; six of 31 letters and
# digits, about 900 million, so guessing one of a hall's cards takes millions of tries.
CARD_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CARD_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(CARD_ALPHABET) for _ in range(CARD_LENGTH))


def normalized_code(typed: str) -> str:
    """A card's code as typed: case, blanks and dashes do not matter."""
    return "".join(c for c in typed.upper() if c.isascii() and c.isalnum())


async def issue(session: AsyncSession, event_id: int, names: Sequence[str]) -> list[CheckIn]:
    """One card per name (in the caller's transaction), each code unique in the event."""
    taken = set(
        (await session.exec(select(CheckIn.code).where(CheckIn.event_id == event_id))).all()
    )
    cards = []
    for name in names:
        code = new_code()
        while code in taken:
            code = new_code()
        taken.add(code)
        cards.append(CheckIn(event_id=event_id, code=code, name=name or None))
    session.add_all(cards)
    await session.flush()
    return cards


async def cards(session: AsyncSession, event_id: int) -> list[CheckIn]:
    query = select(CheckIn).where(CheckIn.event_id == event_id).order_by(col(CheckIn.id))
    return list((await session.exec(query)).all())


async def card_needed(session: AsyncSession, event_id: int, user_id: int) -> bool:
    """Whether the event has cards and this user has checked in with none: one query, on
    every survey answer."""
    mine = func.count().filter(col(CheckIn.user_id) == user_id)
    query = select(func.count(), mine).where(CheckIn.event_id == event_id)
    issued, used = (await session.exec(query)).one()
    return bool(issued) and not used


@dataclass(frozen=True)
class Taken:
    """What typing a code did: checked in now, or why not."""

    ok: bool
    reason: str = ""  # "unknown" | "used"


async def check_in(session: AsyncSession, event_id: int, user_id: int, typed: str) -> Taken:
    """Check ``user_id`` in with the card ``typed``: taken only if nobody has used it
    (compare-and-set, so two people typing one code at once cannot both have it)."""
    code = normalized_code(typed)
    card = (
        await session.exec(
            select(CheckIn).where(CheckIn.event_id == event_id, CheckIn.code == code)
        )
    ).first()
    if card is None:
        return Taken(False, "unknown")
    if card.user_id == user_id:
        return Taken(True)
    result = await session.exec(
        update(CheckIn)
        .where(col(CheckIn.id) == card.id, col(CheckIn.user_id).is_(None))
        .values(user_id=user_id, checked_in_at=utcnow())
    )
    return Taken(True) if result.rowcount == 1 else Taken(False, "used")


@dataclass(frozen=True)
class Attendance:
    """An event's cards: how many were handed out, and who checked in with one."""

    issued: int
    users: frozenset[int]

    @property
    def checked_in(self) -> int:
        return len(self.users)


async def attendance(session: AsyncSession, event_id: int) -> Attendance | None:
    """None when the event has no cards (its responses cannot be tied to attendees)."""
    issued = int(
        (await session.exec(select(func.count()).where(CheckIn.event_id == event_id))).one()
    )
    if not issued:
        return None
    query = select(CheckIn.user_id).where(
        CheckIn.event_id == event_id, col(CheckIn.user_id).is_not(None)
    )
    users = frozenset(int(u) for u in (await session.exec(query)).all() if u is not None)
    return Attendance(issued, users)


async def forget_user(session: AsyncSession, user_id: int) -> None:
    """An attendee who erased their data: their card stays used (attendance is the office's
    record, and the report's 回收率 must not move), under the anonymous id their kept
    response gets (minus its id: models.queries.delete_user), else one of its own. Run
    before the responses are made anonymous."""
    response = (
        select(Application.id)
        .where(
            col(Application.event_id) == col(CheckIn.event_id),
            col(Application.user_id) == user_id,
            col(Application.status) == ApplicationStatus.SUBMITTED,
        )
        .scalar_subquery()
    )
    mine = col(CheckIn.user_id) == user_id
    await session.exec(update(CheckIn).where(mine, response.is_not(None)).values(user_id=-response))
    # No response kept: an id no response can have (theirs are below 2**31).
    # A big integer, said so: PostgreSQL would type the constant as the key's int4.
    beyond = literal(-(2**40), BigInteger)
    await session.exec(update(CheckIn).where(mine).values(user_id=beyond - col(CheckIn.id)))
