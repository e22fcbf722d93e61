"""Who a web visitor is: a random id in a signed cookie, a CSRF token bound to it, the
key that signs both (itsdangerous), and a rate limit per visitor and per address.

A web visitor is a user of their own (channel ``web``), with a negative id far below any
Telegram chat id (Telegram users are positive; groups, down to about -10^13), so the two
never collide. Nothing reads the channel from the id: the user row says it.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import itsdangerous
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import AppSecret

COOKIE = "patentbot"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep one: a yearly call comes back
SECRET_NAME = "web_cookie_key"
FINGERPRINT_NAME = "web_secret_fingerprint"
WEB_ID_BASE = 2**53


def new_visitor_id() -> int:
    return -(WEB_ID_BASE + secrets.randbelow(WEB_ID_BASE))


def is_visitor_id(user_id: int) -> bool:
    """An id ``new_visitor_id`` could have made: a cookie naming another is refused
    before its signature is checked. (Who is on the web is the user row's channel.)"""
    return -2 * WEB_ID_BASE < user_id <= -WEB_ID_BASE


class SecretMismatch(Exception):
    """WEB_SECRET is not the one the other processes on this database sign with."""


async def cookie_key(sessions: async_sessionmaker[AsyncSession], configured: str | None) -> bytes:
    """WEB_SECRET, else the key made on the first start and kept in the database. With
    WEB_SECRET the database keeps only a fingerprint of it, so that a process started
    with another one refuses to start (it would take every visitor for a stranger)."""
    if configured:
        await _check_fingerprint(sessions, configured.encode())
        return configured.encode()
    async with sessions() as session:
        stored = await session.get(AppSecret, SECRET_NAME)
        if stored is not None:
            return stored.value.encode()
        session.add(AppSecret(name=SECRET_NAME, value=secrets.token_urlsafe(32)))
        try:
            await session.commit()
        except IntegrityError:  # another process made it at the same moment: use theirs
            await session.rollback()
    async with sessions() as session:
        stored = await session.get(AppSecret, SECRET_NAME)
        assert stored is not None
        return stored.value.encode()


async def _check_fingerprint(sessions: async_sessionmaker[AsyncSession], key: bytes) -> None:
    mark = hashlib.sha256(b"patentbot web secret fingerprint:" + key).hexdigest()
    async with sessions() as session:
        stored = await session.get(AppSecret, FINGERPRINT_NAME)
        if stored is None:
            session.add(AppSecret(name=FINGERPRINT_NAME, value=mark))
            try:
                await session.commit()
            except IntegrityError:  # another process at the same moment: compare with theirs
                await session.rollback()
                stored = await session.get(AppSecret, FINGERPRINT_NAME)
    if stored is not None and stored.value != mark:
        raise SecretMismatch("WEB_SECRET")


@functools.cache
def _signer(key: bytes, purpose: str) -> itsdangerous.Signer:
    """One itsdangerous signer per purpose: a value signed for one purpose (a visitor's
    cookie) is no good for another (an office session)."""
    return itsdangerous.Signer(
        key, salt=purpose, key_derivation="hmac", digest_method=hashlib.sha256
    )


@dataclass(frozen=True)
class Signer:
    """Signed cookies and CSRF tokens, on itsdangerous. A cookie that is not one we signed
    — forged, cut short, not ASCII, a 5,000-digit number — is no cookie, never an error."""

    key: bytes

    def sign(self, purpose: str, value: str) -> str:
        """``value`` with its signature, for a cookie."""
        return _signer(self.key, purpose).sign(value).decode()

    def unsign(self, purpose: str, signed: str | None) -> str | None:
        """The value of a cookie ``sign`` made for this purpose, else None."""
        if not signed:
            return None
        try:
            return _signer(self.key, purpose).unsign(signed).decode()
        except (itsdangerous.BadSignature, UnicodeError):
            return None

    def token(self, purpose: str, subject: int | str) -> str:
        """A token bound to a subject (a form's CSRF token for a visitor, a session)."""
        return _signer(self.key, purpose).get_signature(str(subject)).decode()

    def token_ok(self, purpose: str, subject: int | str, token: str) -> bool:
        try:
            return _signer(self.key, purpose).verify_signature(str(subject), token)
        except UnicodeError:
            return False

    def cookie(self, user_id: int) -> str:
        return self.sign("visitor", str(user_id))

    def visitor(self, cookie: str | None) -> int | None:
        """The visitor a cookie names, if we signed it."""
        value = self.unsign("visitor", cookie)
        digits = (value or "").removeprefix("-")
        if value is None or not (digits.isascii() and digits.isdigit()):
            return None
        user_id = int(value)
        return user_id if is_visitor_id(user_id) else None

    def csrf(self, user_id: int) -> str:
        return self.token("csrf", user_id)

    def csrf_ok(self, user_id: int, token: str) -> bool:
        return self.token_ok("csrf", user_id, token)


@dataclass
class Buckets:
    """Token buckets: ``burst`` requests at once, ``rate`` a second after that, per key."""

    rate: float
    burst: float
    # Keys kept at most: a flood of distinct addresses evicts the longest quiet ones (a
    # key quiet for burst / rate seconds is full again: forgetting it changes nothing).
    limit: int = 100_000
    _level: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        level, since = self._level.pop(key, (self.burst, now))
        level = min(self.burst, level + (now - since) * self.rate)
        allowed = level >= 1
        self._level[key] = (level - 1 if allowed else level, now)  # the newest at the end
        if len(self._level) > self.limit:
            self._level.popitem(last=False)
        return allowed
