"""Who is using the office pages: an officer's session in a signed, HttpOnly cookie
scoped to /office, the CSRF token of their forms, and the one-time sign-in link.

The cookie holds a random session token signed with the web chat's key (bot/web_identity
Signer); the session itself is a row (models/officers.py) that expires, and signing out
deletes it, so a copied cookie dies with the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.pages.identity import Signer
from models import officers
from models.tables import Officer

COOKIE = "patentbot_office"
PATH = "/office"
SESSION_PURPOSE = "office-session"
CSRF_PURPOSE = "office-csrf"
LINK_PURPOSE = "office-link"
# The browser that opened a sign-in link: its form's token is bound to this cookie too, so
# only that browser can post it (a page on another site cannot sign anyone in).
BROWSER_COOKIE = "patentbot_signin"
BROWSER_PURPOSE = "office-signin-browser"


@dataclass(frozen=True)
class SignedIn:
    officer: Officer
    token: str  # the session's, which the CSRF token is bound to


class OfficeAuth:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signer: Signer,
        *,
        secure_cookie: bool,
    ) -> None:
        self.sessions = sessions
        self.signer = signer
        self.secure_cookie = secure_cookie

    async def signed_in(self, request: web.Request) -> SignedIn | None:
        token = self.signer.unsign(SESSION_PURPOSE, request.cookies.get(COOKIE))
        if token is None:
            return None
        async with self.sessions() as session:
            officer = await officers.session_officer(session, token)
        return None if officer is None else SignedIn(officer, token)

    def csrf(self, who: SignedIn) -> str:
        return self.signer.token(CSRF_PURPOSE, who.token)

    def csrf_ok(self, who: SignedIn, token: str) -> bool:
        return self.signer.token_ok(CSRF_PURPOSE, who.token, token)

    def browser(self, request: web.Request) -> str | None:
        """The random number the sign-in page gave this browser, if it gave one."""
        return self.signer.unsign(BROWSER_PURPOSE, request.cookies.get(BROWSER_COOKIE))

    def set_browser(self, response: web.StreamResponse, nonce: str) -> None:
        response.set_cookie(
            BROWSER_COOKIE, self.signer.sign(BROWSER_PURPOSE, nonce), max_age=3600,
            path=PATH, httponly=True, secure=self.secure_cookie, samesite="Strict",
        )  # fmt: skip

    def link_csrf(self, link: str, browser: str) -> str:
        """The sign-in form's token: bound to the link and to the browser that opened its
        page, so only that page, in that browser, can post it."""
        return self.signer.token(LINK_PURPOSE, f"{link}:{browser}")

    def link_csrf_ok(self, link: str, browser: str | None, token: str) -> bool:
        return browser is not None and self.signer.token_ok(
            LINK_PURPOSE, f"{link}:{browser}", token
        )

    def set_cookie(self, response: web.StreamResponse, token: str) -> None:
        response.set_cookie(
            COOKIE,
            self.signer.sign(SESSION_PURPOSE, token),
            max_age=officers.SESSION_DAYS * 24 * 3600,
            path=PATH,
            httponly=True,
            secure=self.secure_cookie,
            samesite="Lax",
        )

    @staticmethod
    def clear_cookie(response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path=PATH)
