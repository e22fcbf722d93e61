"""The office pages of training events: create, close and reopen; links and QR code;
the live report with its chart and spreadsheet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from markupsafe import Markup

from bot.office.auth import SignedIn
from bot.office.site import Site, download, event_target, local_time, see
from forms.answers import InvalidAnswer
from forms.definition import admin_form
from handlers.kernel import render
from handlers.training import service as events
from handlers.training.service import Report, SurveyLinks, chart_png, report_text, report_xlsx
from locales import Translator
from models import officers, queries
from models.tables import SYSTEM_ACTOR, TrainingEvent


class EventPages:
    def __init__(self, site: Site) -> None:
        self.site = site

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
        async with self.site.sessions() as session:
            found = await queries.events_with_counts(session)
        rows = [
            (event, t.date(event.event_date), events.status_text(t, event), count)
            for event, count in found
        ]
        return self.site.render(
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
            if any(not given[q.id] for q in admin_form("event").questions if not q.optional):
                raise InvalidAnswer("error.empty")  # a form posted without a field it needs
            fields = events.event_fields(given)
        except InvalidAnswer as e:
            return await self.events(request, who, t, error=render.invalid(t, e), given=given)
        async with self.site.sessions() as session:
            event = await events.create_event(
                session, self.site.form, **fields, created_by=SYSTEM_ACTOR
            )
            await officers.record(session, who.officer, "event_create", event_target(event))
            await session.commit()
        return see(f"/office/events/{event.id}")

    def about_event(
        self, handler: Callable[..., Awaitable[web.StreamResponse]]
    ) -> Callable[..., Awaitable[web.StreamResponse]]:
        """A page or a post about one event: its handler gets the event, or a 404."""

        async def found(request: web.Request, *args: Any) -> web.StreamResponse:
            who, t = args[0], args[1]
            async with self.site.sessions() as session:
                event = await session.get(TrainingEvent, int(request.match_info["id"]))
            if event is None:
                return self.site.not_found(request, t, who)
            return await handler(request, who, t, event, *args[2:])

        return found

    async def _report(self, event: TrainingEvent) -> Report:
        async with self.site.sessions() as session:
            return await events.load_report(session, self.site.form, event)

    def _links(self, request: web.Request, event: TrainingEvent) -> SurveyLinks:
        base = self.site.public_base(request)
        return events.survey_links(base, self.site.context.bot_username, event.code)

    async def event(
        self, request: web.Request, who: SignedIn, t: Translator, event: TrainingEvent
    ) -> web.Response:
        """An event: its addresses and QR code, open or closed, and its live report."""
        report = await self._report(event)
        return self.site.render(
            request,
            t,
            who,
            "event.html",
            event=event,
            date=t.date(event.event_date),
            closes=local_time(t, event.closes_at) or t("event.no_closing"),
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
        async with self.site.sessions() as session:
            await events.set_open(session, event, to == "open")
            await officers.record(session, who.officer, f"event_{to}", event_target(event))
            await session.commit()
        return see(f"/office/events/{event.id}")

    async def event_qr(
        self, request: web.Request, who: SignedIn, t: Translator, event: TrainingEvent
    ) -> web.StreamResponse:
        link = self._links(request, event).scannable
        assert link is not None  # the web address is always known here
        inline = "inline" in request.query  # shown on the page; else downloaded, to project
        return download(f"survey-{event.code}.png", events.qr_png(link), inline=inline)

    async def event_chart(
        self, request: web.Request, who: SignedIn, t: Translator, event: TrainingEvent
    ) -> web.StreamResponse:
        png = chart_png(t, await self._report(event))
        return download(f"survey-{event.code}-chart.png", png, inline=True)

    async def event_xlsx(
        self, request: web.Request, who: SignedIn, t: Translator, event: TrainingEvent
    ) -> web.StreamResponse:
        sheet = report_xlsx(t, await self._report(event))
        return download(f"survey-{event.code}.xlsx", sheet)

    # --- export and audit ----------------------------------------------------------
