"""The office pages: what a programme officer does every week, in a browser, for an
office that cannot reach Telegram — the overview of /stats, the applications, the events
with their QR codes and reports, the /export spreadsheet, and the audit of changes.

Served under /office/ by the web chat's app (bot/web.py). Server-rendered, no script,
nothing from another host; every page answers only a signed-in officer
(bot/office_auth.py), every post carries a CSRF token and is written to the audit. The
data comes from the functions the chat's commands use (handlers/stats, export, events,
survey_report, draft), never from a second copy of their queries.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

import templates
from bot.office_auth import OfficeAuth, SignedIn
from bot.office_broadcasts import OfficeBroadcasts
from bot.web_identity import WEB_ID_BASE, Signer
from forms.answers import InvalidAnswer, decode
from forms.definition import admin_form
from handlers import events, render, stats
from handlers.context import Context
from handlers.draft import draft_for_application
from handlers.events import SurveyLinks
from handlers.export import export_document
from handlers.survey_report import Report, chart_png, report_text, report_xlsx
from locales import LANGUAGE_NAMES, LOCAL_TIME, N_, SUPPORTED, Translator, guess_locale, translator
from models import audiences, office_queries, officers, queries, statistics
from models.tables import Application, Draft, Officer, TrainingEvent

OFFICE_FILES = Path(templates.__file__).resolve().parent / "office"
HTML_LANG = {"zh_CN": "zh-CN", "zh_HK": "zh-HK", "en": "en"}
PER_PAGE = 50
MAX_FIELD = 200  # characters of a posted field: titles and places are far shorter
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NAME_QUESTION = "enterprise_name"
# created_by of events made on these pages, as of the terminal's: no Telegram user made
# them (the audit names the officer).
OFFICE_CREATOR = 0
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
    """The posted form's text fields. A body that is none (not UTF-8, broken multipart)
    is the sender's mistake: 400, as on the web chat, not a 500."""
    try:
        posted = await request.post()
    except (ValueError, RequestPayloadError) as e:
        raise web.HTTPBadRequest() from e
    return {k: str(v)[:MAX_FIELD] for k, v in posted.items() if isinstance(v, str)}


def _see(path: str) -> web.Response:
    """Post/redirect/get: a reload shows the page, it does not post again."""
    return web.Response(status=303, headers={"Location": path})


def _language(request: web.Request) -> str | None:
    header = request.headers.get("Accept-Language", "")
    return header.split(",")[0].split(";")[0].strip() or None


def _local(t: Translator, moment: Any) -> str:
    return "" if moment is None else t.datetime(moment.astimezone(LOCAL_TIME))


class Office:
    """The routes, holding what they share: the chat's context (sessions, programme,
    admin ids, links) and the sign-in."""

    def __init__(self, context: Context, auth: OfficeAuth, public_url: str | None) -> None:
        self.context = context
        self.sessions = context.sessions
        self.form = context.form
        self.auth = auth
        self.public_url = public_url

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

    def _locale(self, request: web.Request, officer: Officer | None) -> str:
        if officer is not None and officer.locale in SUPPORTED:
            return officer.locale
        return guess_locale(_language(request), self.context.default_locale)

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

    async def signin_help(self, request: web.Request) -> web.StreamResponse:
        if await self.auth.signed_in(request) is not None:
            return _see("/office/")
        return self._signin_needed(request)

    def _not_found(self, request: web.Request, t: Translator, who: SignedIn) -> web.Response:
        return self._message(request, t, who, t("office.not_found"), 404)

    def public_base(self, request: web.Request) -> str:
        return (self.public_url or f"{request.scheme}://{request.host}").rstrip("/")

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
            officer = await officers.link_officer(session, token)
        if officer is None:
            return self._message(request, t, None, t("office.signin.spent"), 410)
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
                return self._message(request, t, None, t("office.signin.spent"), 410)
            session_token = await officers.start_session(session, officer)
            await officers.record(session, officer, "signin")
            await session.commit()
        response = _see("/office/")
        self.auth.set_cookie(response, session_token)
        return response

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

    async def overview(self, request: web.Request, who: SignedIn, t: Translator) -> web.Response:
        """What /stats says, as tables."""
        form = self.form
        async with self.sessions() as session:
            o = await statistics.overview(session, form.id, stats.BY_QUESTION)
            users = await office_queries.users_by_language_and_channel(session, -WEB_ID_BASE)
            flags = (await audiences.flag_counts(session, form.id))[: stats.TOP_FLAGS]
            latest = await stats.latest_events(session, form)
        by_language = [
            (LANGUAGE_NAMES.get(loc, loc), users[(loc, "telegram")], users[(loc, "web")])
            for loc, _ in sorted(o.by_language.items(), key=lambda item: -item[1])
        ]
        verdicts = [(Markup(render.verdict_text(t, v)), o.verdicts[v]) for v in render.VERDICTS]
        flag_rows = [
            (
                render.SEVERITY_ICONS.get(flag.severity, ""),
                flag.clause,
                render.flag_title(t, form, flag, stats.FLAG_TITLE_LENGTH),
                n,
            )
            for flag, n in flags
        ]
        ranked = sorted(o.clusters.items(), key=lambda item: -sum(item[1].values()))
        clusters = [
            (
                Markup(stats.cluster_label(t, form, value)),
                sum(counts.values()),
                counts["eligible"] + counts["eligible_with_points"],
            )
            for value, counts in ranked[: stats.TOP_CLUSTERS]
        ]
        event_rows = [
            (
                event,
                t.date(event.event_date),
                report.valid,
                t.percent(report.overall.rate, digits=1) if report.overall.rate is not None
                else "—",
                "" if report.met is None else ("✅" if report.met else "❌"),
            )
            for event, report in latest
        ]  # fmt: skip
        target = latest[0][1].target if latest else Decimal(str(form.params["min_satisfaction"]))
        return self._render(
            request,
            t,
            who,
            "overview.html",
            by_language=by_language,
            telegram_total=sum(n for (_, ch), n in users.items() if ch == "telegram"),
            web_total=sum(n for (_, ch), n in users.items() if ch == "web"),
            users_total=o.users,
            unreachable=t("office.overview.unreachable", count=t.number(o.unreachable)),
            started=o.started,
            finished=o.finished,
            verdicts=verdicts,
            flags=flag_rows,
            clusters=clusters,
            has_clusters=form.has_question(stats.BY_QUESTION),
            events=event_rows,
            target=t("office.overview.target", target=t.percent(target, digits=0)),
        )

    # --- applications --------------------------------------------------------------

    async def applications(
        self, request: web.Request, who: SignedIn, t: Translator
    ) -> web.Response:
        """A page of applications, newest first, filtered and sorted on the server."""
        form = self.form
        q = request.query
        filters = office_queries.Filters(
            verdict=q.get("verdict", "") if q.get("verdict") in render.VERDICTS else "",
            flag=q.get("flag", "")[:64],
            cluster=q.get("cluster", "")[:MAX_FIELD],
            sort=q.get("sort", "new") if q.get("sort") in office_queries.SORTS else "new",
        )
        kept = {k: v for k, v in vars(filters).items() if v and not (k == "sort" and v == "new")}
        async with self.sessions() as session:
            rules = await office_queries.flag_rules(session, form.id)
            clusters = await office_queries.cluster_values(session, form.id, stats.BY_QUESTION)
            total = await office_queries.count_applications(
                session, form.id, filters, stats.BY_QUESTION
            )
            pager = _pager(request, total, kept)
            rows = await office_queries.applications_page(
                session, form.id, filters, limit=PER_PAGE, offset=pager.offset,
                name_question=NAME_QUESTION, cluster_question=stats.BY_QUESTION,
            )  # fmt: skip
        shown = [
            {
                "id": row.application.id,
                "name": row.name or "—",
                "user": row.application.user_id,
                "version": row.application.version,
                "status": t(f"export.status.{row.application.status}"),
                "verdict": Markup(render.verdict_text(t, row.application.verdict))
                if row.application.verdict in render.VERDICTS else "",
                "flags": row.flags,
                "submitted": _local(t, row.application.submitted_at),
            }
            for row in rows
        ]  # fmt: skip
        rule_names = []
        for rule_id in rules:
            rule = form.rule(rule_id)
            title = t(rule.title) if rule is not None else rule_id
            rule_names.append((rule_id, f"{rule.clause} {title}" if rule else title))
        return self._render(
            request,
            t,
            who,
            "applications.html",
            rows=shown,
            pager=pager,
            filters=filters,
            verdict_options=[(v, render.plain(render.verdict_text(t, v))) for v in render.VERDICTS],
            flag_options=rule_names,
            cluster_options=[
                (text, render.plain(stats.cluster_label(t, form, str(value))))
                for text, value in clusters
            ],
            sort_options=[(key, t(name)) for key, name in SORT_NAMES.items()],
        )

    async def _application(self, request: web.Request) -> Application | None:
        async with self.sessions() as session:
            found = await session.get(Application, int(request.match_info["id"]))
        if found is None or found.event_id is not None or found.programme_id != self.form.id:
            return None
        return found

    async def application(self, request: web.Request, who: SignedIn, t: Translator) -> web.Response:
        """One application: every answer with its history, the flags with their clauses
        and figures, the rules' version it was judged under, its drafts."""
        application = await self._application(request)
        if application is None or application.id is None:
            return self._not_found(request, t, who)
        form = self.form
        async with self.sessions() as session:
            history = await queries.answer_history(session, application.id)
            flags = await queries.flags_of(session, application.id)
            drafts = await office_queries.drafts_of(session, application.id)
            user = await queries.get_user(session, application.user_id)
        by_question: dict[str, list[Any]] = {}
        for answer in history:
            by_question.setdefault(answer.question_id, []).append(answer)
        answers: list[tuple[str, list[tuple[str, str, bool]]]] = []
        for question in form.questions:
            given = by_question.pop(question.id, [])
            if not given:
                continue
            shown: list[tuple[str, str, bool]] = [
                (
                    Markup(render.show_value(t, question, decode(question, a.value))),
                    _local(t, a.answered_at),
                    a.superseded_at is None,
                )
                for a in reversed(given)
            ]
            answers.append((Markup(render.label(t, form, question)), shown))
        for question_id, given in by_question.items():  # a question this version no longer asks
            answers.append(
                (question_id, [(str(a.value), _local(t, a.answered_at), a.superseded_at is None)
                               for a in reversed(given)])
            )  # fmt: skip
        figures = application.figures or {}
        derived = [
            (
                t(d.label),
                "—" if figures.get(d.id) is None
                else t.percent(Decimal(figures[d.id])) if d.display == "percent"
                else t.number(Decimal(figures[d.id])),
            )
            for d in form.derived
        ]  # fmt: skip
        verdict = application.verdict
        return self._render(
            request,
            t,
            who,
            "application.html",
            application=application,
            heading=t("office.application.title", id=application.id),
            owner=t(
                "office.application.owner",
                user=application.user_id,
                name=(user.display_name if user and user.display_name else "—"),
                channel=t(WORDS["channel_web" if application.user_id <= -WEB_ID_BASE
                               else "channel_telegram"]),
            ),
            judged=t(
                "office.application.judged",
                programme=t(form.title) if application.programme_id == form.id
                else application.programme_id,
                rules=application.programme_version,
                version=application.version,
                status=t(f"export.status.{application.status}"),
                submitted=_local(t, application.submitted_at) or "—",
            ),
            verdict=Markup(render.verdict_text(t, verdict)) if verdict in render.VERDICTS else "",
            answers=answers,
            flags=[Markup(render.flag_line(t, f)) for f in flags],
            derived=derived,
            drafts=[
                t(
                    "office.application.draft_line",
                    version=d.version,
                    language=LANGUAGE_NAMES.get(d.locale, d.locale),
                    time=_local(t, d.created_at),
                )
                for d in drafts
            ],
            submitted=application.status == "submitted",
        )  # fmt: skip

    async def draft(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        """The draft application as a Word file, in the language asked for."""
        application = await self._application(request)
        locale = form.get("locale") if form.get("locale") in SUPPORTED else None
        if application is None or application.id is None:
            return self._not_found(request, t, who)
        async with self.sessions() as session:
            made = await draft_for_application(session, self.form, application.id, locale)
            if made is None:
                return self._message(request, t, who, t("office.application.not_submitted"), 409)
            draft, content = made
            await officers.record(session, who.officer, "draft", _draft_target(draft))
            await session.commit()
        return _download(draft.filename, content, DOCX)

    # --- events --------------------------------------------------------------------

    def _event_questions(self, t: Translator) -> list[tuple[str, str, str]]:
        """(field, label, input type) of what /event asks, in its order."""
        asked = admin_form("event")
        kinds = {"date": "date", "datetime": "text"}
        return [
            (q.id, render.plain(render.label(t, asked, q)), kinds.get(q.type, "text"))
            for q in asked.questions
        ]

    async def events(
        self, request: web.Request, who: SignedIn, t: Translator, *, error: str = "",
        given: dict[str, str] | None = None,
    ) -> web.Response:  # fmt: skip
        async with self.sessions() as session:
            found = await queries.events_with_counts(session)
        rows = [
            (event, t.date(event.event_date), events.status_text(t, event), count)
            for event, count in found
        ]
        return self._render(
            request,
            t,
            who,
            "events.html",
            400 if error else 200,
            rows=rows,
            questions=self._event_questions(t),
            given=given or {},
            error=Markup(error),
        )

    async def create_event(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        given = {qid: form.get(qid, "").strip() for qid, _, _ in self._event_questions(t)}
        try:
            fields = events.event_fields(given)
        except InvalidAnswer as e:
            return await self.events(request, who, t, error=render.invalid(t, e), given=given)
        async with self.sessions() as session:
            event = await events.create_event(
                session, self.form, **fields, created_by=OFFICE_CREATOR
            )
            await officers.record(session, who.officer, "event_create", _event_target(event))
            await session.commit()
        return _see(f"/office/events/{event.id}")

    def _event_page(
        self, handler: Callable[..., Awaitable[web.StreamResponse]]
    ) -> Callable[..., Awaitable[web.StreamResponse]]:
        """A page or a post about one event: its handler gets the event, or a 404."""

        async def found(request: web.Request, *args: Any) -> web.StreamResponse:
            who, t = args[0], args[1]
            async with self.sessions() as session:
                event = await session.get(TrainingEvent, int(request.match_info["id"]))
            if event is None:
                return self._not_found(request, t, who)
            return await handler(request, who, t, event, *args[2:])

        return found

    async def _report(self, event: TrainingEvent) -> Report:
        async with self.sessions() as session:
            return await events.load_report(session, self.form, event)

    def _links(self, request: web.Request, event: TrainingEvent) -> SurveyLinks:
        base = self.public_base(request)
        return events.survey_links(base, self.context.bot_username, event.code)

    async def event(
        self, request: web.Request, who: SignedIn, t: Translator, event: TrainingEvent
    ) -> web.Response:
        """An event: its addresses and QR code, open or closed, and its live report."""
        report = await self._report(event)
        return self._render(
            request,
            t,
            who,
            "event.html",
            event=event,
            date=t.date(event.event_date),
            closes=_local(t, event.closes_at) or t("event.no_closing"),
            state=events.status_text(t, event),
            links=Markup(events.links_text(t, self._links(request, event))),
            report=Markup(report_text(t, report)),
            responses=report.valid,
        )

    async def set_open(
        self,
        request: web.Request,
        who: SignedIn,
        t: Translator,
        event: TrainingEvent,
        form: dict[str, str],
    ) -> web.StreamResponse:
        to = request.match_info["to"]
        async with self.sessions() as session:
            await events.set_open(session, event, to == "open")
            await officers.record(session, who.officer, f"event_{to}", _event_target(event))
            await session.commit()
        return _see(f"/office/events/{event.id}")

    async def event_qr(
        self, request: web.Request, who: SignedIn, t: Translator, event: TrainingEvent
    ) -> web.StreamResponse:
        link = self._links(request, event).scannable
        assert link is not None  # the web address is always known here
        inline = "inline" in request.query  # shown on the page; else downloaded, to project
        return _download(
            f"survey-{event.code}.png", events.qr_png(link), "image/png", inline=inline
        )

    async def event_chart(
        self, request: web.Request, who: SignedIn, t: Translator, event: TrainingEvent
    ) -> web.StreamResponse:
        png = chart_png(t, await self._report(event))
        return _download(f"survey-{event.code}-chart.png", png, "image/png", inline=True)

    async def event_xlsx(
        self, request: web.Request, who: SignedIn, t: Translator, event: TrainingEvent
    ) -> web.StreamResponse:
        sheet = report_xlsx(t, await self._report(event))
        return _download(f"survey-{event.code}.xlsx", sheet, XLSX)

    # --- export and audit ----------------------------------------------------------

    async def export(
        self, request: web.Request, who: SignedIn, t: Translator
    ) -> web.StreamResponse:
        """The /export workbook; who took the data, and when, goes into the audit."""
        async with self.sessions() as session:
            document = await export_document(session, self.form, t, self.context.admin_ids)
            await officers.record(session, who.officer, "export", document.filename)
            await session.commit()
        return _download(document.filename, document.content, XLSX)

    async def audit(self, request: web.Request, who: SignedIn, t: Translator) -> web.Response:
        async with self.sessions() as session:
            pager = _pager(request, await officers.audit_count(session), {})
            entries = await officers.audit_page(session, PER_PAGE, pager.offset)
        rows = [
            (_local(t, e.at), e.officer_name, t(ACTIONS.get(e.action, e.action)), e.target)
            for e in entries
        ]
        return self._render(request, t, who, "audit.html", rows=rows, pager=pager)


def office_routes(
    context: Context, signer: Signer, secure_cookie: bool, public_url: str | None
) -> list[web.RouteDef]:
    """The office pages' routes, for the web chat's app: same key, same address."""
    auth = OfficeAuth(context.sessions, signer, secure_cookie=secure_cookie)
    return Office(context, auth, public_url).routes()


def _event_target(event: TrainingEvent) -> str:
    return f"{event.code} {event.title}"


def _draft_target(draft: Draft) -> str:
    return f"{draft.application_id} v{draft.version} {draft.locale}"


def _download(
    filename: str, content: bytes, content_type: str, *, inline: bool = False
) -> web.Response:
    disposition = "inline" if inline else f"attachment; filename*=UTF-8''{quote(filename)}"
    return web.Response(
        body=content,
        content_type=content_type,
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
