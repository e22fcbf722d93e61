"""What every office page shares: sign-in checks, CSRF, rendering in the officer's
language, paging and downloads. One ``Site`` is handed to each page group (signin,
applications, events, broadcasts); bot/office/routes.py is their one route table."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

import templates
from bot.office.auth import OfficeAuth, SignedIn
from bot.pages.requests import HTML_LANG, content_type, first_language, posted
from handlers.kernel.context import Context
from locales import LANGUAGE_NAMES, LOCAL_TIME, N_, SUPPORTED, Translator, guess_locale, translator
from models.tables import Draft, Officer, TrainingEvent

OFFICE_FILES = Path(templates.__file__).resolve().parent / "office"
PER_PAGE = 50
MAX_FIELD = 200  # characters of a posted field: titles and places are far shorter
NAME_QUESTION = "enterprise_name"
# What the audit calls each action.
ACTIONS = {
    "signin": N_("office.action.signin"),
    "signout": N_("office.action.signout"),
    "language": N_("office.action.language"),
    "event_create": N_("office.action.event_create"),
    "event_close": N_("office.action.event_close"),
    "event_open": N_("office.action.event_open"),
    "draft": N_("office.action.draft"),
    "export": N_("office.action.export"),
    "broadcast_queue": N_("office.action.broadcast_queue"),
    "broadcast_pause": N_("office.action.broadcast_pause"),
    "broadcast_resume": N_("office.action.broadcast_resume"),
    "broadcast_stop": N_("office.action.broadcast_stop"),
}
SORT_NAMES = {
    "new": N_("office.sort.new"),
    "old": N_("office.sort.old"),
    "submitted": N_("office.sort.submitted"),
    "verdict": N_("office.sort.verdict"),
}
# Templates say their words by catalog key, ``{{ _("office.nav.events") }}``, as code
# does (``pybabel extract`` reads them through babel.cfg); ``_`` is the request's
# translator, handed to each render.
_pages = Environment(
    loader=FileSystemLoader(OFFICE_FILES),
    autoescape=select_autoescape(default=True),
    extensions=["jinja2.ext.i18n"],
)

Page = Callable[[web.Request, SignedIn, Translator], Awaitable[web.StreamResponse]]
Action = Callable[
    [web.Request, SignedIn, Translator, dict[str, str]], Awaitable[web.StreamResponse]
]


@dataclass(frozen=True)
class Pager:
    """Which page of a long table, and the links to its neighbours (filters kept)."""

    page: int
    pages: int
    total: int
    query: dict[str, str]

    @property
    def offset(self) -> int:
        return (self.page - 1) * PER_PAGE

    def link(self, page: int) -> str:
        return "?" + urlencode({**self.query, "page": str(page)})


def paged(request: web.Request, total: int, query: dict[str, str]) -> Pager:
    raw = request.query.get("page", "1")
    pages = max(1, math.ceil(total / PER_PAGE))
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
    return Pager(min(max(page, 1), pages), pages, total, query)


async def posted_fields(request: web.Request) -> dict[str, str]:
    """The posted form's text fields (a body that is none: 400, as on the web chat)."""
    form = await posted(request)
    return {k: str(v)[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}


def see(path: str) -> web.Response:
    """Post/redirect/get: a reload shows the page, it does not post again."""
    return web.Response(status=303, headers={"Location": path})


def translations(t: Translator) -> dict[str, Any]:
    """The i18n extension's functions in one request's language. ``_`` takes the
    catalog's ``{name}`` placeholders as keywords, as ``t`` does in code."""
    return {"_": t, "gettext": t, "ngettext": t.translations.ngettext}


def local_time(t: Translator, moment: Any) -> str:
    return "" if moment is None else t.datetime(moment.astimezone(LOCAL_TIME))


class Site:
    """What every page group is handed: the chat's context (sessions, programme, admin
    ids, links), the sign-in, and the ways a page answers (guarded, rendered)."""

    def __init__(self, context: Context, auth: OfficeAuth, public_url: str | None) -> None:
        self.context = context
        self.sessions = context.sessions
        self.form = context.form
        self.auth = auth
        self.public_url = public_url

    def locale(self, request: web.Request, officer: Officer | None) -> str:
        if officer is not None and officer.locale in SUPPORTED:
            return officer.locale
        return guess_locale(first_language(request), self.context.default_locale)

    def page(self, handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A page for a signed-in officer; anyone else sees the sign-in page, no data."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            who = await self.auth.signed_in(request)
            if who is None:
                return see("/office/signin")
            return await handler(request, who, translator(self.locale(request, who.officer)))

        return guarded

    def action(self, handler: Action) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A post of a signed-in officer with the CSRF token of their session."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            who = await self.auth.signed_in(request)
            if who is None:
                return self.signin_needed(request, 403)
            t = translator(self.locale(request, who.officer))
            form = await posted_fields(request)
            if not self.auth.csrf_ok(who, form.get("csrf", "")):
                return self.message(request, t, who, t("office.forged"), 403)
            return await handler(request, who, t, form)

        return guarded

    # --- rendering -----------------------------------------------------------------

    def render(
        self,
        request: web.Request,
        t: Translator,
        who: SignedIn | None,
        template: str,
        status: int = 200,
        **values: Any,
    ) -> web.Response:
        html = _pages.get_template(template).render(
            lang=HTML_LANG[t.locale],
            **translations(t),
            who=who.officer.name if who else "",
            csrf=self.auth.csrf(who) if who else "",
            locale=t.locale,
            languages=LANGUAGE_NAMES,
            number=t.number,  # 10,000 as the language writes it
            path=request.path,
            **values,
        )
        response = web.Response(text=html, content_type="text/html", charset="utf-8")
        response.set_status(status)
        response.headers["Cache-Control"] = "private, no-store"  # officers' data stays put
        return response

    def message(
        self, request: web.Request, t: Translator, who: SignedIn | None, text: str, status: int
    ) -> web.Response:
        return self.render(request, t, who, "message.html", status, message=text)

    def signin_needed(self, request: web.Request, status: int = 200) -> web.Response:
        """The way in, and nothing else: for a visitor without a session (or whose
        session ended or expired)."""
        t = translator(self.locale(request, None))
        return self.render(request, t, None, "signin.html", status, link="")

    def not_found(self, request: web.Request, t: Translator, who: SignedIn) -> web.Response:
        return self.message(request, t, who, t("office.not_found"), 404)

    def public_base(self, request: web.Request) -> str:
        return (self.public_url or f"{request.scheme}://{request.host}").rstrip("/")


def event_target(event: TrainingEvent) -> str:
    return f"{event.code} {event.title}"


def draft_target(draft: Draft) -> str:
    return f"{draft.application_id} v{draft.version} {draft.locale}"


def download(filename: str, content: bytes, *, inline: bool = False) -> web.Response:
    disposition = "inline" if inline else f"attachment; filename*=UTF-8''{quote(filename)}"
    return web.Response(
        body=content,
        content_type=content_type(filename),
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
