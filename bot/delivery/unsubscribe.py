"""The unsubscribe link every e-mail carries (bot/delivery/mail.py): a page that asks, and the
POST that stops the notices — also the one-click POST of mail clients (RFC 8058, the
List-Unsubscribe-Post header). The signed token is the credential: no cookie, no CSRF
token, no sign-in, as the link works from any mail client. A GET changes nothing (a
mail scanner that follows links unsubscribes nobody)."""

from __future__ import annotations

import hashlib

from aiohttp import web
from jinja2 import Environment
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.pages.identity import Signer
from bot.pages.requests import HTML_LANG, first_language
from locales import Translator, guess_locale, translator
from models.tables import User

MAX_TOKEN = 200
PURPOSE = "unsubscribe"


def address_mark(address: str) -> str:
    """A short fingerprint of an address, so a token names it without showing it."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]


def unsubscribe_token(signer: Signer, user_id: int, address: str) -> str:
    return signer.sign(PURPOSE, f"{user_id}_{address_mark(address)}")


def unsubscribing(signer: Signer, token: str) -> tuple[int, str] | None:
    """(user id, address fingerprint) of a token this deployment signed, else None."""
    value = signer.unsign(PURPOSE, token)
    user, _, mark = (value or "").partition("_")
    if not user.lstrip("-").isdigit() or len(user) > 20 or not mark:
        return None
    return int(user), mark


def masked(address: str) -> str:
    """``l***@example.com``: enough to recognise, not to harvest."""
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


class Unsubscribe:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signer: Signer,
        pages: Environment,
        default_locale: str,
    ) -> None:
        self.sessions = sessions
        self.signer = signer
        self.pages = pages
        self.default_locale = default_locale

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/unsubscribe/{token}", self.ask),
            web.post("/unsubscribe/{token}", self.stop),
        ]

    async def _subscriber(self, token: str) -> User | None:
        """The user the token names, while it still names their address."""
        found = unsubscribing(self.signer, token[:MAX_TOKEN])
        if found is None:
            return None
        user_id, mark = found
        async with self.sessions() as session:
            user = await session.get(User, user_id)
        if user is None or user.email is None or address_mark(user.email) != mark:
            return None
        return user

    async def ask(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        user = await self._subscriber(token)
        t = self._translator(request, user)
        if user is None or user.email is None:
            return self._page(t, t("mail.unsubscribe.gone"))
        text = t("mail.unsubscribe.ask", address=masked(user.email))
        return self._page(t, text, token=token, confirm=t("mail.unsubscribe.confirm"))

    async def stop(self, request: web.Request) -> web.StreamResponse:
        user = await self._subscriber(request.match_info["token"])
        t = self._translator(request, user)
        if user is None:
            return self._page(t, t("mail.unsubscribe.gone"))
        async with self.sessions() as session:
            stored = await session.get(User, user.id)
            if stored is not None and stored.email == user.email:
                stored.email, stored.email_failed = None, None
                session.add(stored)
                await session.commit()
        return self._page(t, t("mail.unsubscribe.done"))

    def _translator(self, request: web.Request, user: User | None) -> Translator:
        if user is not None:
            return translator(user.locale)
        return translator(guess_locale(first_language(request), self.default_locale))

    def _page(
        self, t: Translator, text: str, *, token: str = "", confirm: str = ""
    ) -> web.Response:
        html = self.pages.get_template("unsubscribe.html").render(
            lang=HTML_LANG[t.locale],
            title=t("mail.unsubscribe.title"),
            text=text,
            token=token,
            confirm=confirm,
        )
        return web.Response(
            text=html, content_type="text/html", charset="utf-8",
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )  # fmt: skip
