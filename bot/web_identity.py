"""Who a web visitor is: a random id in a signed cookie, a CSRF token bound to it, the
key that signs both, and a rate limit per visitor and per address.

A web visitor is a user of their own (channel ``web``), with a negative id far below any
Telegram chat id (Telegram users are positive; groups, down to about -10^13), so the two
never collide. Nothing reads the channel from the id: the user row says it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import AppSecret

COOKIE = "patentbot"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep one: a yearly call comes back
SECRET_NAME = "web_cookie_key"
WEB_ID_BASE = 2**53


def new_visitor_id() -> int:
    return -(WEB_ID_BASE + secrets.randbelow(WEB_ID_BASE))


def is_visitor_id(user_id: int) -> bool:
    """An id ``new_visitor_id`` could have made: a cookie naming another is refused
    before its signature is checked. (Who is on the web is the user row's channel.)"""
    return -2 * WEB_ID_BASE < user_id <= -WEB_ID_BASE


async def cookie_key(sessions: async_sessionmaker[AsyncSession], configured: str | None) -> bytes:
    """WEB_SECRET, else the key made on the first start and kept in the database."""
    if configured:
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


@dataclass(frozen=True)
class Signer:
    key: bytes

    def _mac(self, purpose: str, subject: int | str) -> str:
        digest = hmac.new(self.key, f"{purpose}:{subject}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def sign(self, purpose: str, value: str) -> str:
        """``value`` with its signature, for a cookie (``value`` holds no ".")."""
        return f"{value}.{self._mac(purpose, value)}"

    def unsign(self, purpose: str, signed: str | None) -> str | None:
        """The value of a cookie ``sign`` made for this purpose, else None."""
        value, _, mac = (signed or "").partition(".")
        if not value or not hmac.compare_digest(mac, self._mac(purpose, value)):
            return None
        return value

    def token(self, purpose: str, subject: int | str) -> str:
        """A token bound to a subject (a form's CSRF token for a visitor, a session)."""
        return self._mac(purpose, subject)

    def token_ok(self, purpose: str, subject: int | str, token: str) -> bool:
        return hmac.compare_digest(token, self._mac(purpose, subject))

    def cookie(self, user_id: int) -> str:
        return f"{user_id}.{self._mac('visitor', user_id)}"

    def visitor(self, cookie: str | None) -> int | None:
        """The visitor a cookie names, if we signed it."""
        head, _, mac = (cookie or "").partition(".")
        if not head.lstrip("-").isdigit() or not is_visitor_id(int(head)):
            return None
        user_id = int(head)
        return user_id if hmac.compare_digest(mac, self._mac("visitor", user_id)) else None

    def csrf(self, user_id: int) -> str:
        return self.token("csrf", user_id)

    def csrf_ok(self, user_id: int, token: str) -> bool:
        return self.token_ok("csrf", user_id, token)


@dataclass
class Buckets:
    """Token buckets: ``burst`` requests at once, ``rate`` a second after that, per key."""

    rate: float
    burst: float
    _level: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        level, since = self._level.get(key, (self.burst, now))
        level = min(self.burst, level + (now - since) * self.rate)
        if level < 1:
            self._level[key] = (level, now)
            return False
        self._level[key] = (level - 1, now)
        if len(self._level) > 100_000:  # forget the quiet ones, not the flooding one
            self._level = {k: v for k, v in self._level.items() if v[0] < self.burst - 1}
        return True
