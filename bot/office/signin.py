"""The way in and out of the office pages: the one-time link's sign-in, sign-out, the
officer's language, and what a visitor without a session is shown."""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.office.auth import SignedIn
from bot.office.site import OFFICE_FILES, Site, posted_fields, see
from locales import SUPPORTED, Translator, translator
from models import officers
from models.tables import Officer


class SigninPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    # --- who is asking -------------------------------------------------------------

    async def signin_help(self, request: web.Request) -> web.StreamResponse:
        if await self.site.auth.signed_in(request) is not None:
            return see("/office/")
        return self.site.signin_needed(request)

    async def to_overview(self, request: web.Request) -> web.StreamResponse:
        return see("/office/")

    async def static(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            OFFICE_FILES / "office.css", headers={"Cache-Control": "max-age=3600"}
        )

    # --- signing in and out --------------------------------------------------------

    async def signin_page(self, request: web.Request) -> web.StreamResponse:
        """The link, opened: a button that signs in (a link preview that fetches the
        address does not use it up)."""
        token = request.match_info["token"][:64]
        t = translator(self.site.locale(request, None))
        async with self.site.sessions() as session:
            state, officer = await officers.link_state(session, token)
        if officer is None:
            return self._link_refused(request, t, state)
        browser = self.site.auth.browser(request) or secrets.token_urlsafe(16)
        response = self.site.render(
            request,
            t,
            None,
            "signin.html",
            link=token,
            link_csrf=self.site.auth.link_csrf(token, browser),
            confirm=t("office.signin.confirm", name=officer.name),
        )
        self.site.auth.set_browser(response, browser)
        return response

    async def signin(self, request: web.Request) -> web.StreamResponse:
        posted = await posted_fields(request)
        token = posted.get("link", "")[:64]
        t = translator(self.site.locale(request, None))
        browser = self.site.auth.browser(request)
        if not self.site.auth.link_csrf_ok(token, browser, posted.get("csrf", "")):
            return self.site.message(request, t, None, t("office.forged"), 403)
        async with self.site.sessions() as session:
            officer = await officers.take_link(session, token)
            if officer is None:
                state, _ = await officers.link_state(session, token)
                return self._link_refused(request, t, state)
            session_token = await officers.start_session(session, officer)
            await officers.record(session, officer, "signin")
            await session.commit()
        response = see("/office/")
        self.site.auth.set_cookie(response, session_token)
        return response

    def _link_refused(
        self, request: web.Request, t: Translator, state: officers.LinkState
    ) -> web.Response:
        """Why a link signs nobody in: unknown here (another database?), used, expired."""
        if state is officers.LinkState.UNKNOWN:
            return self.site.message(request, t, None, t("office.signin.unknown"), 404)
        if state is officers.LinkState.USED:
            return self.site.message(request, t, None, t("office.signin.used"), 410)
        expired = t("office.signin.expired", hours=officers.LINK_HOURS)
        return self.site.message(request, t, None, expired, 410)

    async def signout(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        async with self.site.sessions() as session:
            await officers.end_session(session, who.token)
            await officers.record(session, who.officer, "signout")
            await session.commit()
        response = see("/office/")
        self.site.auth.clear_cookie(response)
        return response

    async def language(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        locale = form.get("locale", "")
        if locale not in SUPPORTED:
            return self.site.message(request, t, who, t("office.bad_request"), 400)
        async with self.site.sessions() as session:
            officer = await session.get(Officer, who.officer.id)
            assert officer is not None
            officer.locale = locale
            session.add(officer)
            await officers.record(session, officer, "language", locale)
            await session.commit()
        back = form.get("back", "")
        plain_path = back.startswith("/office/") and back.isprintable() and "\\" not in back
        return see(back if plain_path else "/office/")  # only back to a page of its own
