"""The office pages of applications: the overview of /stats, the table of applications
and one application with its drafts, the /export spreadsheet, and the audit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web
from markupsafe import Markup

from bot.office.auth import SignedIn
from bot.office.site import (
    ACTIONS,
    MAX_FIELD,
    NAME_QUESTION,
    PER_PAGE,
    SORT_NAMES,
    Site,
    download,
    draft_target,
    local_time,
    paged,
)
from forms.answers import decode
from forms.definition import Form
from handlers.admin import stats
from handlers.admin.service import CHANNEL_NAMES, export_document
from handlers.applicant.service import draft_for_application
from handlers.kernel import render
from handlers.training.service import Report
from locales import LANGUAGE_NAMES, SUPPORTED, Translator
from models import audiences, office_queries, officers, queries, statistics
from models.tables import Answer, Application, Channel, TrainingEvent


class ApplicationPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def overview(self, request: web.Request, who: SignedIn, t: Translator) -> web.Response:
        """What /stats says, as tables."""
        form = self.site.form
        async with self.site.sessions() as session:
            o = await statistics.overview(session, form.id, stats.BY_QUESTION)
            users = await office_queries.users_by_language_and_channel(session)
            flags = (await audiences.flag_counts(session, form.id))[: stats.TOP_FLAGS]
            latest = await stats.latest_events(session, form)
        by_language = [
            (LANGUAGE_NAMES.get(loc, loc), users[(loc, Channel.TELEGRAM)], users[loc, Channel.WEB])
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
        target = latest[0][1].target if latest else Decimal(str(form.params["min_satisfaction"]))
        return self.site.render(
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
            events=_event_rows(t, latest),
            target=t("office.overview.target", target=t.percent(target, digits=0)),
        )

    # --- applications --------------------------------------------------------------

    async def applications(
        self, request: web.Request, who: SignedIn, t: Translator
    ) -> web.Response:
        """A page of applications, newest first, filtered and sorted on the server."""
        form = self.site.form
        q = request.query
        filters = office_queries.Filters(
            verdict=q.get("verdict", "") if q.get("verdict") in render.VERDICTS else "",
            flag=q.get("flag", "")[:64],
            cluster=q.get("cluster", "")[:MAX_FIELD],
            sort=q.get("sort", "new") if q.get("sort") in office_queries.SORTS else "new",
        )
        kept = {k: v for k, v in vars(filters).items() if v and not (k == "sort" and v == "new")}
        async with self.site.sessions() as session:
            rules = await office_queries.flag_rules(session, form.id)
            clusters = await office_queries.cluster_values(session, form.id, stats.BY_QUESTION)
            total = await office_queries.count_applications(
                session, form.id, filters, stats.BY_QUESTION
            )
            pager = paged(request, total, kept)
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
                "submitted": local_time(t, row.application.submitted_at),
            }
            for row in rows
        ]  # fmt: skip
        rule_names = []
        for rule_id in rules:
            rule = form.rule(rule_id)
            title = t(rule.title) if rule is not None else rule_id
            rule_names.append((rule_id, f"{rule.clause} {title}" if rule else title))
        return self.site.render(
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
        async with self.site.sessions() as session:
            found = await session.get(Application, int(request.match_info["id"]))
        if found is None or found.event_id is not None or found.programme_id != self.site.form.id:
            return None
        return found

    async def application(self, request: web.Request, who: SignedIn, t: Translator) -> web.Response:
        """One application: every answer with its history, the flags with their clauses
        and figures, the rules' version it was judged under, its drafts."""
        application = await self._application(request)
        if application is None or application.id is None:
            return self.site.not_found(request, t, who)
        form = self.site.form
        async with self.site.sessions() as session:
            history = await queries.answer_history(session, application.id)
            flags = await queries.flags_of(session, application.id)
            drafts = await office_queries.drafts_of(session, application.id)
            user = await queries.get_user(session, application.user_id)
        verdict = application.verdict
        return self.site.render(
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
                channel=t(CHANNEL_NAMES[user.channel]) if user else "—",
            ),
            judged=t(
                "office.application.judged",
                programme=t(form.title),  # _application found it in this programme
                rules=application.programme_version,
                version=application.version,
                status=t(f"export.status.{application.status}"),
                submitted=local_time(t, application.submitted_at) or "—",
            ),
            verdict=Markup(render.verdict_text(t, verdict)) if verdict in render.VERDICTS else "",
            answers=_answers(t, form, history),
            flags=[Markup(render.flag_line(t, f)) for f in flags],
            derived=_derived(t, form, application),
            drafts=[
                t(
                    "office.application.draft_line",
                    version=d.version,
                    language=LANGUAGE_NAMES.get(d.locale, d.locale),
                    time=local_time(t, d.created_at),
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
            return self.site.not_found(request, t, who)
        async with self.site.sessions() as session:
            made = await draft_for_application(session, self.site.form, application.id, locale)
            if made is None:
                return self.site.message(
                    request, t, who, t("office.application.not_submitted"), 409
                )
            draft, content = made
            await officers.record(session, who.officer, "draft", draft_target(draft))
            await session.commit()
        return download(draft.filename, content)

    # --- events --------------------------------------------------------------------

    async def export(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        """The /export workbook; who took the data, and when, goes into the audit. Posted
        with the page's token: a link from another site takes nothing and logs nothing."""
        async with self.site.sessions() as session:
            document = await export_document(
                session, self.site.form, t, self.site.context.admin_ids
            )
            await officers.record(session, who.officer, "export", document.filename)
            await session.commit()
        return download(document.filename, document.content)

    async def audit(self, request: web.Request, who: SignedIn, t: Translator) -> web.Response:
        async with self.site.sessions() as session:
            pager = paged(request, await officers.audit_count(session), {})
            entries = await officers.audit_page(session, PER_PAGE, pager.offset)
        rows = [
            (local_time(t, e.at), e.officer_name, t(ACTIONS.get(e.action, e.action)), e.target)
            for e in entries
        ]
        return self.site.render(request, t, who, "audit.html", rows=rows, pager=pager)


def _answers(
    t: Translator, form: Form, history: list[Answer]
) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Each question's answers, the latest first (value, when, whether it holds)."""
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
                local_time(t, a.answered_at),
                a.superseded_at is None,
            )
            for a in reversed(given)
        ]
        answers.append((Markup(render.label(t, form, question)), shown))
    for question_id, given in by_question.items():  # a question this version no longer asks
        answers.append(
            (question_id, [(str(a.value), local_time(t, a.answered_at), a.superseded_at is None)
                           for a in reversed(given)])
        )  # fmt: skip
    return answers


def _derived(t: Translator, form: Form, application: Application) -> list[tuple[str, str]]:
    """The figures the application was judged with, as the language writes them."""
    figures = application.figures or {}
    return [
        (
            t(d.label),
            "—" if figures.get(d.id) is None
            else t.percent(Decimal(figures[d.id])) if d.display == "percent"
            else t.number(Decimal(figures[d.id])),
        )
        for d in form.derived
    ]  # fmt: skip


def _event_rows(
    t: Translator, latest: list[tuple[TrainingEvent, Report]]
) -> list[tuple[TrainingEvent, str, int, str, str]]:
    """The newest events: date, valid responses, satisfaction, whether it met the target."""
    return [
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
