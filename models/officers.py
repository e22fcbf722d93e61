"""The programme officers of the office pages: who they are, their one-time sign-in
links, the browsers they are signed in on, and the audit of what they changed.

Links and sessions are random tokens kept only as SHA-256 hashes: a copy of the
database (a backup) signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OfficeAudit, Officer, OfficerLink, OfficerSession, utcnow

SIGNIN_PATH = "/office/signin/"  # + the link's token: the page that signs in with it
LINK_HOURS = 24
SESSION_DAYS = 30  # a morning a week: a month without signing in again
NAME_LENGTH = 64


def signin_link(base: str, token: str) -> str:
    return f"{base.rstrip('/')}{SIGNIN_PATH}{token}"


def valid_name(name: str) -> bool:
    return 0 < len(name) <= NAME_LENGTH and name.isprintable()


async def add_with_link(session: AsyncSession, name: str, added_by: str) -> tuple[str, bool]:
    """A sign-in link's token for the officer of that name, added if new; and whether
    they were new (a known officer gets a new link: a new browser, a lost link)."""
    officer = await by_name(session, name)
    new = officer is None
    officer = officer or await add(session, name, added_by)
    assert officer is not None
    return await new_link(session, officer), new


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def add(session: AsyncSession, name: str, added_by: str) -> Officer | None:
    """None when an officer of that name exists already."""
    if await by_name(session, name) is not None:
        return None
    officer = Officer(name=name, added_by=added_by)
    session.add(officer)
    await session.flush()
    return officer


async def by_name(session: AsyncSession, name: str) -> Officer | None:
    return (await session.exec(select(Officer).where(Officer.name == name))).first()


async def listed(session: AsyncSession) -> list[Officer]:
    return list((await session.exec(select(Officer).order_by(col(Officer.name)))).all())


async def remove(session: AsyncSession, name: str) -> bool:
    """Remove an officer, their links and sessions (signed out everywhere at once)."""
    officer = await by_name(session, name)
    if officer is None:
        return False
    for table in (OfficerLink, OfficerSession):
        await session.exec(delete(table).where(col(table.officer_id) == officer.id))
    await session.delete(officer)
    await session.flush()
    return True


async def new_link(session: AsyncSession, officer: Officer) -> str:
    """A sign-in link's token, good once within LINK_HOURS; the officer's earlier unused
    links stop working (a link sent again replaces one that may have gone astray)."""
    assert officer.id is not None
    await session.exec(
        update(OfficerLink)
        .where(col(OfficerLink.officer_id) == officer.id, col(OfficerLink.used_at).is_(None))
        .values(expires_at=utcnow())  # says "expired" if opened, then purged
    )
    token = secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(hours=LINK_HOURS)
    session.add(OfficerLink(token_hash=_hash(token), officer_id=officer.id, expires_at=expires))
    await session.flush()
    return token


class LinkState(StrEnum):
    """What a sign-in link is, so its page can say why it signs nobody in."""

    GOOD = "good"
    UNKNOWN = "unknown"  # never made in this database (or its officer was removed)
    USED = "used"
    EXPIRED = "expired"


async def link_state(session: AsyncSession, token: str) -> tuple[LinkState, Officer | None]:
    """The link's state, and its officer while it is good."""
    link = await session.get(OfficerLink, _hash(token))
    if link is None:
        return LinkState.UNKNOWN, None
    if link.used_at is not None:
        return LinkState.USED, None
    if link.expires_at <= utcnow():
        return LinkState.EXPIRED, None
    return LinkState.GOOD, await session.get(Officer, link.officer_id)


async def take_link(session: AsyncSession, token: str) -> Officer | None:
    """Use a link: its officer, once (compare-and-set: two browsers cannot both use it)."""
    now = utcnow()
    used = await session.exec(
        update(OfficerLink)
        .where(
            col(OfficerLink.token_hash) == _hash(token),
            col(OfficerLink.used_at).is_(None),
            col(OfficerLink.expires_at) > now,
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:
        return None
    link = await session.get(OfficerLink, _hash(token))
    assert link is not None
    return await session.get(Officer, link.officer_id)


async def start_session(session: AsyncSession, officer: Officer) -> str:
    assert officer.id is not None
    token = secrets.token_urlsafe(24)
    now = utcnow()
    session.add(
        OfficerSession(
            token_hash=_hash(token),
            officer_id=officer.id,
            created_at=now,
            expires_at=now + timedelta(days=SESSION_DAYS),
        )
    )
    officer.last_signin_at = now
    session.add(officer)
    await session.flush()
    return token


async def session_officer(session: AsyncSession, token: str) -> Officer | None:
    """The officer a browser's session belongs to, while it lasts."""
    found = await session.get(OfficerSession, _hash(token))
    if found is None or found.expires_at <= utcnow():
        return None
    return await session.get(Officer, found.officer_id)


async def end_session(session: AsyncSession, token: str) -> None:
    await session.exec(delete(OfficerSession).where(col(OfficerSession.token_hash) == _hash(token)))


async def record(session: AsyncSession, officer: Officer, action: str, target: str = "") -> None:
    """Write down who did what to which, now: in the same transaction as the change."""
    session.add(
        OfficeAudit(officer_id=officer.id, officer_name=officer.name, action=action, target=target)
    )
    await session.flush()


async def audit_count(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(OfficeAudit))).one())


async def audit_page(session: AsyncSession, limit: int, offset: int) -> list[OfficeAudit]:
    """The newest actions first, one page of them."""
    query = select(OfficeAudit).order_by(col(OfficeAudit.id).desc()).limit(limit).offset(offset)
    return list((await session.exec(query)).all())
