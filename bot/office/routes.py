"""The office pages: what a programme officer does every week, in a browser, for an
office that cannot reach Telegram — the overview of /stats, the applications, the events
with their QR codes and reports, the /export spreadsheet, and the audit of changes.

Served under /office/ by the web chat's app (bot/transports/web/chat.py).
Server-rendered, no script, nothing from another host; every page answers only a signed-in officer
(bot/office/auth.py), every post carries a CSRF token and is written to the audit. The
data comes from the functions the chat's commands use (handlers/stats, export, events,
survey_report, draft), never from a second copy of their queries.
"""

from __future__ import annotations

from aiohttp import web

from bot.office.applications import ApplicationPages
from bot.office.auth import OfficeAuth, SignedIn
from bot.office.broadcasts import OfficeBroadcasts
from bot.office.events import EventPages
from bot.office.site import OFFICE_FILES, _fields, _see
from bot.pages.identity import Signer
from handlers.context import Context
from locales import SUPPORTED, Translator, translator
from models import officers
from models.tables import Officer


class Office(ApplicationPages, EventPages):
    """The routes, and the way in and out (sign-in, sign-out, language)."""

    def routes(self) -> list[web.RouteDef]:
        page, act, one = self._page, self._action, self._event_page
        return [
            web.get("/office", self.to_overview),
            web.get("/office/", page(self.overview)),
            web.get("/office/signin", self.signin_help),
            web.get("/office/signin/{token}", self.signin_page),
            web.post("/office/signin", self.signin),
            web.post("/office/signout", act(self.signout)),
            web.post("/office/language", act(self.language)),
            web.get("/office/applications", page(self.applications)),
            web.get("/office/applications/{id:\\d{1,12}}", page(self.application)),
            web.post("/office/applications/{id:\\d{1,12}}/draft", act(self.draft)),
            web.get("/office/events", page(self.events)),
            web.post("/office/events", act(self.create_event)),
            web.get("/office/events/{id:\\d{1,12}}", page(one(self.event))),
            web.post("/office/events/{id:\\d{1,12}}/{to:close|open}", act(one(self.set_open))),
            web.get("/office/events/{id:\\d{1,12}}/qr.png", page(one(self.event_qr))),
            web.get("/office/events/{id:\\d{1,12}}/chart.png", page(one(self.event_chart))),
            web.get("/office/events/{id:\\d{1,12}}/report.xlsx", page(one(self.event_xlsx))),
            web.get("/office/export.xlsx", page(self.export)),
            web.get("/office/audit", page(self.audit)),
            web.get("/office/static/office.css", self.static),
            *OfficeBroadcasts(self).routes(),
        ]

    # --- who is asking -------------------------------------------------------------

    async def signin_help(self, request: web.Request) -> web.StreamResponse:
        if await self.auth.signed_in(request) is not None:
            return _see("/office/")
        return self._signin_needed(request)

    async def to_overview(self, request: web.Request) -> web.StreamResponse:
        return _see("/office/")

    async def static(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            OFFICE_FILES / "office.css", headers={"Cache-Control": "max-age=3600"}
        )

    # --- signing in and out --------------------------------------------------------

    async def signin_page(self, request: web.Request) -> web.StreamResponse:
        """The link, opened: a button that signs in (a link preview that fetches the
        address does not use it up)."""
        token = request.match_info["token"][:64]
        t = translator(self._locale(request, None))
        async with self.sessions() as session:
            state, officer = await officers.link_state(session, token)
        if officer is None:
            return self._link_refused(request, t, state)
        return self._render(
            request,
            t,
            None,
            "signin.html",
            link=token,
            link_csrf=self.auth.link_csrf(token),
            confirm=t("office.signin.confirm", name=officer.name),
        )

    async def signin(self, request: web.Request) -> web.StreamResponse:
        posted = await _fields(request)
        token = posted.get("link", "")[:64]
        t = translator(self._locale(request, None))
        if not self.auth.link_csrf_ok(token, posted.get("csrf", "")):
            return self._message(request, t, None, t("office.forged"), 403)
        async with self.sessions() as session:
            officer = await officers.take_link(session, token)
            if officer is None:
                state, _ = await officers.link_state(session, token)
                return self._link_refused(request, t, state)
            session_token = await officers.start_session(session, officer)
            await officers.record(session, officer, "signin")
            await session.commit()
        response = _see("/office/")
        self.auth.set_cookie(response, session_token)
        return response

    def _link_refused(
        self, request: web.Request, t: Translator, state: officers.LinkState
    ) -> web.Response:
        """Why a link signs nobody in: unknown here (another database?), used, expired."""
        if state is officers.LinkState.UNKNOWN:
            return self._message(request, t, None, t("office.signin.unknown"), 404)
        if state is officers.LinkState.USED:
            return self._message(request, t, None, t("office.signin.used"), 410)
        expired = t("office.signin.expired", hours=officers.LINK_HOURS)
        return self._message(request, t, None, expired, 410)

    async def signout(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        async with self.sessions() as session:
            await officers.end_session(session, who.token)
            await officers.record(session, who.officer, "signout")
            await session.commit()
        response = _see("/office/")
        self.auth.clear_cookie(response)
        return response

    async def language(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        locale = form.get("locale", "")
        if locale not in SUPPORTED:
            return self._message(request, t, who, t("office.bad_request"), 400)
        async with self.sessions() as session:
            officer = await session.get(Officer, who.officer.id)
            assert officer is not None
            officer.locale = locale
            session.add(officer)
            await officers.record(session, officer, "language", locale)
            await session.commit()
        back = form.get("back", "")
        plain_path = back.startswith("/office/") and back.isprintable() and "\\" not in back
        return _see(back if plain_path else "/office/")  # only back to a page of its own

    # --- overview ------------------------------------------------------------------


def office_routes(
    context: Context, signer: Signer, secure_cookie: bool, public_url: str | None
) -> list[web.RouteDef]:
    """The office pages' routes, for the web chat's app: same key, same address."""
    auth = OfficeAuth(context.sessions, signer, secure_cookie=secure_cookie)
    return Office(context, auth, public_url).routes()
