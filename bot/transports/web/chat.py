"""The web transport: the same conversation in a browser, for people who cannot reach
Telegram (mainland China) or who scan an event's code with WeChat.

Every answer is a plain HTML form posted and answered by a redirect (post/redirect/get):
no JavaScript needed, the oldest in-app browser works, and a reload never answers twice
(bot/transports/web/screen.py). Nothing is loaded from another host. Like the other transports it
only turns requests into ``Event``s and ``Reply``s into pages; the handlers decide.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from html import escape
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from yarl import URL

import templates
from bot.delivery.unsubscribe import Unsubscribe
from bot.logs import quiet_broken_bodies
from bot.office.routes import office_routes
from bot.pages.identity import COOKIE, COOKIE_MAX_AGE, Buckets, Signer, new_visitor_id
from bot.pages.requests import (
    HTML_LANG,
    address,
    content_type,
    first_language,
    posted,
    reachable,
    see_chat,
)
from bot.pages.shown_html import shown
from bot.settings import Settings
from bot.transports.web import screen as web_screen
from handlers.kernel import menu
from handlers.kernel.router import Outcome, Router
from handlers.kernel.types import Event
from handlers.training import service as training
from handlers.training.service import qr_png
from locales import LOCAL_TIME, N_, guess_locale, translator
from models import broadcast_jobs, queries
from models.tables import Channel

# The logger keeps its name from before bot/ had folders: operators' log filters know it.
log = logging.getLogger("bot.web")

MAX_TEXT = 10_000  # characters in one answer
MAX_BODY = 64 * 1024
MAX_STEP_DIGITS = 9  # a screen's step counter: far beyond any conversation's length
WEB_FILES = Path(templates.__file__).resolve().parent / "web"
SECURITY_HEADERS = {
    # No inline script, nothing from another host, no framing.
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_pages = Environment(loader=FileSystemLoader(WEB_FILES), autoescape=select_autoescape(default=True))

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebChat:
    """The routes, holding what they share: the router, the signer, the rate limits."""

    def __init__(
        self,
        router: Router,
        signer: Signer,
        *,
        secure_cookie: bool,
        public_url: str | None = None,
        per_visitor: Buckets | None = None,
        per_address: Buckets | None = None,
        trusted_proxies: Sequence[IPv4Network | IPv6Network] = (),
    ) -> None:
        self.router = router
        self.sessions = router.context.sessions
        self._default = router.context.default_locale
        self.signer = signer
        self.secure_cookie = secure_cookie
        self.public_url = public_url
        # A person answers a question every few seconds at most; an office's visitors
        # may share one address behind its NAT.
        self.per_visitor = per_visitor or Buckets(rate=2.0, burst=20)
        self.per_address = per_address or Buckets(rate=50.0, burst=200)
        self.trusted_proxies = tuple(trusted_proxies)

    def app(self) -> web.Application:
        quiet_broken_bodies()
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        app.add_routes(
            [
                web.get("/", self.page),
                web.post("/say", self.say),
                web.post("/press", self.press),
                web.get("/s/{code}", self.survey),
                web.post("/handoff", self.handoff),
                web.post("/inbox/dismiss", self.dismiss),
                web.get("/c/{token}", self.handoff_page),
                web.post("/c/{token}", self.take_handoff),
                web.get("/c/{token}/qr.png", self.handoff_qr),
                web.get("/f/{token}", self.file),
                web.get("/static/{name:style.css|favicon.svg}", self.static),
                web.get("/favicon.ico", self.static),  # asked for by browsers that ignore the link
            ]
        )
        app.add_routes(
            office_routes(self.router.context, self.signer, self.secure_cookie, self.public_url)
        )
        context = self.router.context
        unsubscribe = Unsubscribe(context.sessions, self.signer, _pages, context.default_locale)
        app.add_routes(unsubscribe.routes())
        return app

    # --- who is asking -------------------------------------------------------------

    def _visitor(self, request: web.Request) -> int | None:
        return self.signer.visitor(request.cookies.get(COOKIE))

    async def _locale(self, request: web.Request, user_id: int | None) -> str:
        if user_id is not None:
            async with self.sessions() as session:
                user = await queries.get_user(session, user_id)
            if user is not None:
                return user.locale
        return self._guess(request)

    # --- pages ---------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        user_id = self._visitor(request)
        found = None if user_id is None else await web_screen.page(self.sessions, user_id)
        if found is not None:
            locale = found.locale or self._guess(request)
            return self._render(request, locale, found.screen, user_id, notices=found.notices)
        # Nothing stored yet: the welcome, and a signed random number in a cookie. A GET
        # stores nothing; the visitor exists from their first answer (the forms' step 1).
        # Shown at once, not redirected: a browser without cookies gets no loop.
        user_id = user_id or new_visitor_id()
        t = translator(self._guess(request))
        welcome = web_screen.screen(0, [menu.welcome(t, self.router.context.form)])
        response = self._render(request, t.locale, welcome, user_id)
        self._set_cookie(response, user_id)
        return response

    async def say(self, request: web.Request) -> web.StreamResponse:
        form = await posted(request)
        text = str(form.get("text", ""))[:MAX_TEXT]
        return await self._answer(request, form, lambda uid: Event.message(uid, uid, text))

    async def press(self, request: web.Request) -> web.StreamResponse:
        form = await posted(request)
        data = str(form.get("data", ""))[:64]
        return await self._answer(request, form, lambda uid: Event(uid, uid, callback_data=data))

    async def survey(self, request: web.Request) -> web.StreamResponse:
        """An event's code, scanned: its survey's page, whose button starts the survey.
        Nothing is stored and no conversation switched until the button is pressed (a
        link opened by a preview or another site changes nothing)."""
        link = request.match_info["code"][:64]
        user_id = self._visitor(request) or new_visitor_id()
        async with self.sessions() as session:
            event = await queries.event_by_code(session, link.partition("-")[0])
        t = translator(await self._locale(request, user_id))
        step = await web_screen.step(self.sessions, user_id)
        shown = web_screen.screen(step - 1, [training.landing(t, event, link)])
        response = self._render(request, t.locale, shown, user_id)
        self._set_cookie(response, user_id)
        return response

    async def handoff(self, request: web.Request) -> web.StreamResponse:
        """A one-time link (and its QR code) that opens this conversation elsewhere."""
        user_id = await self._poster(request, await posted(request))
        if isinstance(user_id, web.Response):
            return user_id
        token = await web_screen.new_handoff(self.sessions, user_id)
        link = f"{self.public_base(request)}/c/{token}"
        t = translator(await self._locale(request, user_id))
        text = t("web.handoff", link=escape(link), minutes=web_screen.HANDOFF_MINUTES)
        shown = web_screen.Screen(0, [web_screen.ShownReply(text, [], None)])
        return self._render(request, t.locale, shown, None, qr=f"/c/{token}/qr.png", back=True)

    async def dismiss(self, request: web.Request) -> web.StreamResponse:
        """Take one of the office's notices out of the visitor's inbox."""
        form = await posted(request)
        user_id = await self._poster(request, form)
        if isinstance(user_id, web.Response):
            return user_id
        notice = str(form.get("notice", ""))
        if notice.isascii() and notice.isdigit() and len(notice) <= MAX_STEP_DIGITS:
            async with self.sessions() as session:
                await broadcast_jobs.dismiss(session, user_id, int(notice))
                await session.commit()
        return see_chat()

    async def handoff_page(self, request: web.Request) -> web.StreamResponse:
        """A handoff link, opened: what it would move here, and a button to take it. A
        GET takes nothing (a link preview, another site's link); a browser that has a
        conversation of its own keeps it — the link is refused there."""
        token = request.match_info["token"][:64]
        here = self._visitor(request)
        user_id = here or new_visitor_id()
        t = translator(await self._locale(request, here))
        found = await web_screen.handed(self.sessions, token, self.router.context.form.id)
        if found is None:
            return await self._error(request, 410, N_("web.handoff_spent"))
        busy = here is not None and here != found.user_id
        if busy and here is not None and await web_screen.step(self.sessions, here) > 1:
            text, csrf = t("web.handoff_busy"), ""
        else:
            company = found.company or t("web.handoff_no_company")
            text = t("web.handoff_confirm", company=company, steps=found.steps)
            csrf = self.signer.csrf(user_id)
        html = _pages.get_template("handoff.html").render(
            lang=HTML_LANG[t.locale], title=t("web.title"), text=text, token=token, csrf=csrf,
            confirm=t("web.handoff_take"), back=t("web.back_to_chat"),
        )  # fmt: skip
        response = web.Response(
            text=html, content_type="text/html", charset="utf-8",
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )  # fmt: skip
        if here is None:
            self._set_cookie(response, user_id)
        return response

    async def take_handoff(self, request: web.Request) -> web.StreamResponse:
        """The button of the handoff page: this browser takes the conversation over."""
        form = await posted(request)
        here = self._visitor(request)
        if here is None or not self.signer.csrf_ok(here, str(form.get("csrf", ""))):
            return await self._error(request, 403, N_("web.forged"))
        if await web_screen.step(self.sessions, here) > 1:  # its own conversation stays
            return await self._error(request, 409, N_("web.handoff_busy"))
        user_id = await web_screen.take_handoff(self.sessions, request.match_info["token"])
        if user_id is None:
            return await self._error(request, 410, N_("web.handoff_spent"))
        response = see_chat()
        self._set_cookie(response, user_id)
        return response

    async def handoff_qr(self, request: web.Request) -> web.StreamResponse:
        user_id = self._visitor(request)
        token = request.match_info["token"]
        found = (
            None if user_id is None else await web_screen.handoff_of(self.sessions, user_id, token)
        )
        if found is None:
            return await self._error(request, 404, N_("web.file_gone"))
        png = qr_png(f"{self.public_base(request)}/c/{token}")
        return web.Response(body=png, content_type="image/png")

    def public_base(self, request: web.Request) -> str:
        """The address other devices reach: PUBLIC_URL, else the one this request used."""
        return (self.public_url or f"{request.scheme}://{request.host}").rstrip("/")

    async def file(self, request: web.Request) -> web.StreamResponse:
        user_id = self._visitor(request)
        found = None
        if user_id is not None:
            found = await web_screen.file_of(self.sessions, user_id, request.match_info["token"])
        if found is None:
            return await self._error(request, 404, N_("web.file_gone"))
        disposition = f"attachment; filename*=UTF-8''{quote(found.filename)}"
        if found.filename.endswith(".png"):
            disposition = "inline"
        return web.Response(
            body=found.content,
            content_type=content_type(found.filename),
            headers={"Content-Disposition": disposition, "Cache-Control": "private"},
        )

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "favicon.svg")
        return web.FileResponse(WEB_FILES / name, headers={"Cache-Control": "max-age=86400"})

    # --- answering -----------------------------------------------------------------

    async def _poster(self, request: web.Request, form: Any) -> int | web.Response:
        """The visitor a post comes from, once their token and their pace allow it (every
        post of theirs writes a row: an answer, a link, a dismissal); else the page that
        says why."""
        user_id = self._visitor(request)
        if user_id is None:
            return await self._error(request, 403, N_("web.expired"))
        if not self.signer.csrf_ok(user_id, str(form.get("csrf", ""))):
            return await self._error(request, 403, N_("web.forged"))
        if not self.per_visitor.allow(str(user_id)):
            return await self._error(request, 429, N_("web.too_fast"))
        return user_id

    async def _answer(
        self, request: web.Request, form: Any, event_for: Callable[[int], Event]
    ) -> web.StreamResponse:
        user_id = await self._poster(request, form)
        if isinstance(user_id, web.Response):
            return user_id
        step = str(form.get("step", ""))
        # ASCII digits only ("²" is a digit to str.isdigit), and a number a table holds.
        if not (step.isascii() and step.isdigit()) or len(step) > MAX_STEP_DIGITS:
            return await self._error(request, 400, N_("web.bad_request"))
        outcome = await self._handle(request, user_id, int(step), event_for(user_id))
        if not outcome.gone:  # answered now, or before (a reload): the page shows it
            return see_chat()
        # /delete: nothing of them stays, the cookie neither
        shown = [web_screen.ShownReply(r.text, [], None) for r in outcome.replies]
        response = self._render(request, self._guess(request), web_screen.Screen(0, shown), None)
        response.del_cookie(COOKIE, path="/")
        return response

    async def _handle(self, request: web.Request, user_id: int, step: int, event: Event) -> Outcome:
        """Handle the event once for this step: the core records the step with the state
        and the replies, and a step that is not the next one is a repeat."""
        event = dataclasses.replace(
            event,
            language_code=first_language(request),
            channel=Channel.WEB,
            key=web_screen.key(user_id, step),
        )
        return await self.router.answer(event)

    def _guess(self, request: web.Request) -> str:
        return guess_locale(first_language(request), self._default)

    # --- rendering -----------------------------------------------------------------

    def _render(
        self,
        request: web.Request,
        locale: str,
        screen: web_screen.Screen,
        user_id: int | None,
        *,
        qr: str = "",
        back: bool = False,
        notices: Sequence[broadcast_jobs.Notice] = (),
    ) -> web.Response:
        t = translator(locale)
        shown_notices = [
            (
                n.id,
                t("web.inbox.sender", date=t.datetime(n.sent_at.astimezone(LOCAL_TIME))),
                shown(n.text),
            )
            for n in notices
        ]
        html = _pages.get_template("page.html").render(
            lang=HTML_LANG[locale],
            title=t("web.title"),
            replies=screen.replies,
            step=screen.step,
            csrf=self.signer.csrf(user_id) if user_id is not None else "",
            max_text=MAX_TEXT,
            input_label=t("web.input_label"),
            send=t("web.send"),
            wechat="MicroMessenger" in request.headers.get("User-Agent", ""),
            files=any(r.file and not r.file.photo for r in screen.replies),
            wechat_hint=t("web.wechat_download"),
            link="/" if user_id is None else "",
            link_text=t("web.back_to_chat") if back else t("web.start_again"),
            qr=qr,
            handoff=t("web.handoff_button"),
            notices=shown_notices,
            dismiss=t("web.inbox.dismiss"),
        )
        # A page holds a visitor's answers and their CSRF token: no cache keeps it.
        headers = {"Cache-Control": "no-store"}
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers=headers)

    async def _error(self, request: web.Request, status: int, key: str) -> web.Response:
        locale = await self._locale(request, self._visitor(request))
        t = translator(locale)
        message = web_screen.ShownReply(t(key), [], None)
        response = self._render(request, locale, web_screen.Screen(0, [message]), None)
        response.set_status(status)
        return response

    def _set_cookie(self, response: web.StreamResponse, user_id: int) -> None:
        response.set_cookie(
            COOKIE,
            self.signer.cookie(user_id),
            max_age=COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            secure=self.secure_cookie,
            samesite="Lax",
        )

    # --- every request -------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Rate limit per address, security headers, and a page in the visitor's language
        instead of a traceback."""
        # Only a post a visitor of ours signed spends their address's budget: junk without
        # one is refused by its handler, and locks nobody out.
        post = request.method == "POST"
        try:
            response: web.StreamResponse
            if post and not _same_origin(request):
                response = await self._error(request, 403, N_("web.forged"))
            elif (
                post
                and self._visitor(request) is not None
                and not self.per_address.allow(address(request, self.trusted_proxies))
            ):
                response = await self._error(request, 429, N_("web.too_fast"))
            else:
                response = await handler(request)
        except web.HTTPRequestEntityTooLarge:
            response = await self._error(request, 413, N_("web.too_large"))
        except web.HTTPBadRequest:
            response = await self._error(request, 400, N_("web.bad_request"))
        except web.HTTPException as e:
            response = await self._error(request, e.status, N_("web.not_found"))
        except Exception:
            log.exception("web request %s %s failed", request.method, request.path)
            response = await self._error(request, 500, N_("error.internal"))
        response.headers.update(SECURITY_HEADERS)
        return response


def _same_origin(request: web.Request) -> bool:
    """A post from one of our own pages: a browser sends Origin with a post, and a page on
    another site cannot set it to ours. Without one (an old browser, a mail client's
    one-click unsubscribe) the post's own token decides."""
    origin = request.headers.get("Origin")
    if origin is None or request.path.startswith("/unsubscribe/"):
        return True
    try:
        return URL(origin).host == URL(f"//{request.host}").host is not None
    except ValueError:  # not a URL: no page of ours sent it
        return False


async def web_app(settings: Settings, router: Router, **limits: Buckets) -> web.Application:
    from bot.pages.identity import cookie_key

    secret = settings.web_secret.get_secret_value() if settings.web_secret else None
    signer = Signer(await cookie_key(router.context.sessions, secret))
    secure = settings.public_url is not None and settings.public_url.scheme == "https"
    public = str(settings.public_url) if settings.public_url else None
    chat = WebChat(
        router, signer, secure_cookie=secure, public_url=public,
        trusted_proxies=settings.trusted_proxies, **limits,
    )  # fmt: skip
    return chat.app()


@asynccontextmanager
async def listening(settings: Settings, router: Router, **limits: Buckets) -> AsyncIterator[str]:
    """Serve the web chat at WEB_LISTEN until the block ends; yields the address to open
    on this machine. ``limits``: per_visitor, per_address, for tests faster than people."""
    assert settings.web_listen is not None
    runner = web.AppRunner(await web_app(settings, router, **limits), access_log=None)
    await runner.setup()
    host, port = settings.web_listen
    try:
        await web.TCPSite(runner, host, port).start()
        yield f"http://{reachable(host)}:{port}/"
    finally:
        await runner.cleanup()
