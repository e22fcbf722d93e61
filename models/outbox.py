"""The outbox's statements (the table: ``models.tables.OutboxEntry``; its rules:
handlers/kernel/outbox.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlmodel
from sqlalchemy import BindParameter, Insert, bindparam, delete, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OutboxEntry

# On the table, not the ORM class: nothing in a session needs to learn of these writes.
# Built once (an expression costs more to build than to run).
_TABLE = OutboxEntry.__table__  # type: ignore[attr-defined]
_HERE = (_TABLE.c.stream == bindparam("the_stream"), _TABLE.c.number == bindparam("the_number"))
_VALUES: dict[str, BindParameter[Any]] = {
    "stream": bindparam("the_stream"),
    "number": bindparam("the_number"),
    "in_turn": bindparam("the_in_turn"),
    "user_id": bindparam("user"),
    "handled_at": bindparam("now"),
    "replies": bindparam("replies"),
}


def _insert_unless_recent(dialect: Any) -> Insert:
    """A new key; one handled before ``forget_before`` (not forgotten yet) is taken as
    new too, as ids come round again: rewritten in place, in the same statement."""
    statement = dialect.insert(_TABLE).values(_VALUES)
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[_TABLE.c.stream, _TABLE.c.number],
        set_={name: statement.excluded[name] for name in ("user_id", "handled_at", "replies")},
        where=_TABLE.c.handled_at < bindparam("forget_before"),
    )


_INSERT = {"sqlite": _insert_unless_recent(sqlite), "postgresql": _insert_unless_recent(postgresql)}
# The first step of a stream that follows its turn: new only while it has no row.
_FIRST = insert(_TABLE).from_select(
    list(_VALUES),
    select(*(bindparam(v.key, type_=_TABLE.c[n].type).label(n) for n, v in _VALUES.items())).where(
        ~exists().where(_TABLE.c.stream == bindparam("the_stream"))
    ),
)
# The next step: new only if the last one handled is the one before (compare-and-set).
_NEXT = (
    update(_TABLE)
    .where(_TABLE.c.stream == bindparam("the_stream"), _TABLE.c.number == bindparam("previous"))
    .values(
        number=bindparam("the_number"),
        user_id=bindparam("user"),
        handled_at=bindparam("now"),
        replies=bindparam("replies"),
    )
)
_KEEP_UNSENT = update(_TABLE).where(*_HERE).values(replies=bindparam("unsent"))
_ALL_SENT = (
    update(_TABLE)
    .where(
        _TABLE.c.stream == bindparam("the_stream"),
        _TABLE.c.number.in_(bindparam("numbers", expanding=True)),
    )
    .values(replies=None)
)


async def record(
    session: AsyncSession,
    stream: str,
    number: int,
    in_turn: bool,
    *,
    user_id: int | None,
    now: datetime,
    replies: list[Any] | None,
    forget_before: datetime,
) -> bool:
    """Record the key as handled now, with the replies it gets; False when it was
    handled before (a redelivery, a reload): then the caller rolls back."""
    params = {
        "the_stream": stream,
        "the_number": number,
        "the_in_turn": in_turn,
        "user": user_id,
        "now": now,
        "replies": replies,
        "forget_before": forget_before,
        "previous": number - 1,
    }
    connection = await session.connection()  # no ORM object to flush first
    if not in_turn:
        statement: Any = _INSERT[connection.dialect.name]
    else:
        statement = _FIRST if number == 1 else _NEXT
    try:
        result = await connection.execute(statement, params)
    except IntegrityError:  # the same first step, at the same moment, on another process
        return False
    return bool(result.rowcount)


async def entry(session: AsyncSession, stream: str, number: int) -> OutboxEntry | None:
    return await session.get(OutboxEntry, (stream, number))


async def last(session: AsyncSession, stream: str) -> OutboxEntry | None:
    """The last key handled of a stream that follows its turn (its only row)."""
    found = await session.exec(sqlmodel.select(OutboxEntry).where(OutboxEntry.stream == stream))
    return found.first()


async def keep_unsent(
    session: AsyncSession, stream: str, number: int, replies: list[Any] | None
) -> None:
    """Only these of the stored replies are still to send (None: none)."""
    params = {"the_stream": stream, "the_number": number, "unsent": replies}
    await (await session.connection()).execute(_KEEP_UNSENT, params)


async def all_sent(session: AsyncSession, stream: str, numbers: Iterable[int]) -> None:
    params = {"the_stream": stream, "numbers": sorted(numbers)}
    await (await session.connection()).execute(_ALL_SENT, params)


async def forget(session: AsyncSession, before: datetime) -> None:
    """Forget the keys handled before ``before``, except each web page's last step."""
    old = (_TABLE.c.handled_at < before) & ~_TABLE.c.in_turn
    await (await session.connection()).execute(delete(_TABLE).where(old))


async def forget_user(session: AsyncSession, user_id: int) -> None:
    """A user erased: their pages go; the keys they sent stay recognised, no longer theirs."""
    mine = _TABLE.c.user_id == user_id
    connection = await session.connection()
    await connection.execute(delete(_TABLE).where(mine & _TABLE.c.in_turn))
    await connection.execute(update(_TABLE).where(mine).values(user_id=None, replies=None))
