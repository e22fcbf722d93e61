"""What every office page shares: sign-in checks, CSRF, rendering, the words of the
pages, paging and downloads (the pages themselves: bot/office.py and its parts)."""

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
from bot.office_auth import OfficeAuth, SignedIn
from bot.web_requests import HTML_LANG, content_type, first_language, posted
from handlers.context import Context
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
# The words of the pages, looked up once per page (templates hold no catalog keys).
WORDS = {
    "title": N_("office.title"),
    "nav_overview": N_("office.nav.overview"),
    "nav_applications": N_("office.nav.applications"),
    "nav_events": N_("office.nav.events"),
    "nav_export": N_("office.nav.export"),
    "nav_audit": N_("office.nav.audit"),
    "nav_broadcasts": N_("office.broadcasts.title"),
    "signout": N_("office.signout"),
    "language": N_("office.language"),
    "language_set": N_("office.language_set"),
    "signin_title": N_("office.signin.title"),
    "signin_how": N_("office.signin.how"),
    "signin_button": N_("office.signin.button"),
    "prev": N_("office.page.prev"),
    "next": N_("office.page.next"),
    "users": N_("office.overview.users"),
    "channel_telegram": N_("office.channel.telegram"),
    "channel_web": N_("office.channel.web"),
    "total": N_("office.col.total"),
    "assessments": N_("office.overview.assessments"),
    "started": N_("office.overview.started"),
    "finished": N_("office.overview.finished"),
    "flags_title": N_("stats.flags_title"),
    "clusters_title": N_("stats.clusters_title"),
    "events_title": N_("stats.events_title"),
    "nothing": N_("stats.nothing"),
    "col_language": N_("export.col.language"),
    "col_clause": N_("office.col.clause"),
    "col_flag": N_("office.col.flag"),
    "col_count": N_("office.col.count"),
    "col_cluster": N_("office.col.cluster"),
    "col_eligible": N_("office.col.eligible"),
    "col_date": N_("office.col.date"),
    "col_event": N_("office.col.event"),
    "col_responses": N_("office.col.responses"),
    "col_rate": N_("office.col.rate"),
    "col_id": N_("export.col.id"),
    "col_user": N_("export.col.user"),
    "col_version": N_("export.col.version"),
    "col_status": N_("export.col.status"),
    "col_verdict": N_("export.col.verdict"),
    "col_submitted": N_("export.col.submitted"),
    "col_enterprise": N_("office.col.enterprise"),
    "col_flags": N_("office.col.flags"),
    "col_question": N_("office.col.question"),
    "col_answer": N_("office.col.answer"),
    "col_answered": N_("office.col.answered"),
    "col_time": N_("office.col.time"),
    "col_officer": N_("office.col.officer"),
    "col_action": N_("office.col.action"),
    "col_target": N_("office.col.target"),
    "col_place": N_("office.col.place"),
    "col_state": N_("office.col.state"),
    "filter_any": N_("office.filter.any"),
    "filter_apply": N_("office.filter.apply"),
    "sort": N_("office.filter.sort"),
    "apps_none": N_("office.applications.none"),
    "app_answers": N_("office.application.answers"),
    "app_earlier": N_("office.application.earlier"),
    "app_flags": N_("office.application.flags"),
    "app_no_flags": N_("result.no_flags"),
    "app_figures": N_("result.heading.figures"),
    "app_drafts": N_("office.application.drafts"),
    "app_no_drafts": N_("office.application.no_drafts"),
    "app_draft_button": N_("office.application.draft_button"),
    "app_not_submitted": N_("office.application.not_submitted"),
    "events_new": N_("office.events.new"),
    "events_create": N_("office.events.create"),
    "events_optional": N_("office.events.optional"),
    "event_close": N_("button.event_close"),
    "event_open": N_("button.event_open"),
    "event_qr": N_("office.event.qr"),
    "event_qr_download": N_("office.event.qr_download"),
    "event_report": N_("office.event.report"),
    "event_xlsx": N_("office.event.xlsx"),
    "event_live": N_("office.event.live"),
    "audit_title": N_("office.audit.title"),
}

_pages = Environment(
    loader=FileSystemLoader(OFFICE_FILES), autoescape=select_autoescape(default=True)
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


def _pager(request: web.Request, total: int, query: dict[str, str]) -> Pager:
    raw = request.query.get("page", "1")
    pages = max(1, math.ceil(total / PER_PAGE))
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
    return Pager(min(max(page, 1), pages), pages, total, query)


async def _fields(request: web.Request) -> dict[str, str]:
    """The posted form's text fields (a body that is none: 400, as on the web chat)."""
    form = await posted(request)
    return {k: str(v)[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}


def _see(path: str) -> web.Response:
    """Post/redirect/get: a reload shows the page, it does not post again."""
    return web.Response(status=303, headers={"Location": path})


def _local(t: Translator, moment: Any) -> str:
    return "" if moment is None else t.datetime(moment.astimezone(LOCAL_TIME))


class OfficeSite:
    """What the pages share: the chat's context (sessions, programme, admin ids,
    links) and the sign-in."""

    def __init__(self, context: Context, auth: OfficeAuth, public_url: str | None) -> None:
        self.context = context
        self.sessions = context.sessions
        self.form = context.form
        self.auth = auth
        self.public_url = public_url

    def _locale(self, request: web.Request, officer: Officer | None) -> str:
        if officer is not None and officer.locale in SUPPORTED:
            return officer.locale
        return guess_locale(first_language(request), self.context.default_locale)

    def _page(self, handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A page for a signed-in officer; anyone else sees the sign-in page, no data."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            who = await self.auth.signed_in(request)
            if who is None:
                return _see("/office/signin")
            return await handler(request, who, translator(self._locale(request, who.officer)))

        return guarded

    def _action(self, handler: Action) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A post of a signed-in officer with the CSRF token of their session."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            who = await self.auth.signed_in(request)
            if who is None:
                return self._signin_needed(request, 403)
            t = translator(self._locale(request, who.officer))
            form = await _fields(request)
            if not self.auth.csrf_ok(who, form.get("csrf", "")):
                return self._message(request, t, who, t("office.forged"), 403)
            return await handler(request, who, t, form)

        return guarded

    # --- rendering -----------------------------------------------------------------

    def _render(
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
            w={name: t(key) for name, key in WORDS.items()},
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

    def _message(
        self, request: web.Request, t: Translator, who: SignedIn | None, text: str, status: int
    ) -> web.Response:
        return self._render(request, t, who, "message.html", status, message=text)

    def _signin_needed(self, request: web.Request, status: int = 200) -> web.Response:
        """The way in, and nothing else: for a visitor without a session (or whose
        session ended or expired)."""
        t = translator(self._locale(request, None))
        return self._render(request, t, None, "signin.html", status, link="")

    def _not_found(self, request: web.Request, t: Translator, who: SignedIn) -> web.Response:
        return self._message(request, t, who, t("office.not_found"), 404)

    def public_base(self, request: web.Request) -> str:
        return (self.public_url or f"{request.scheme}://{request.host}").rstrip("/")



def _event_target(event: TrainingEvent) -> str:
    return f"{event.code} {event.title}"


def _draft_target(draft: Draft) -> str:
    return f"{draft.application_id} v{draft.version} {draft.locale}"


def _download(filename: str, content: bytes, *, inline: bool = False) -> web.Response:
    disposition = "inline" if inline else f"attachment; filename*=UTF-8''{quote(filename)}"
    return web.Response(
        body=content,
        content_type=content_type(filename),
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
