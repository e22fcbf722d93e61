"""The office's Broadcasts page: compose a message (Telegram HTML), choose the audience,
preview it exactly, confirm; the latest jobs with their progress, and pause, resume or
cancel. Every step goes through the chat's and the terminal's use case
(handlers.admin.broadcast_queue) and words (handlers.admin.broadcast_text): one implementation.

An officer is no Telegram user: the job has no author id and no status message (the audit
names the officer), and the list here shows its progress instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from markupsafe import Markup

from bot.office.auth import SignedIn
from bot.office.site import local_time, see
from bot.pages.shown_html import shown
from handlers.admin import broadcast_text
from handlers.admin.service import (
    MOVES,
    Author,
    Message,
    Refused,
    check_message,
    parse_audience,
    queue_broadcast,
)
from handlers.admin.service import (
    move as move_job,
)
from handlers.kernel import render
from locales import LANGUAGE_NAMES, SUPPORTED, Translator
from models import audiences, broadcast_jobs, officers, queries

if TYPE_CHECKING:
    from bot.office.site import Site

MAX_TEXT = 16_000  # characters of HTML posted: far above what Telegram's limit lets through
EVENTS_SHOWN = 10  # as the chat's menu
REFRESH_SECONDS = 5  # how often the job list reloads while a job runs


class BroadcastPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    def _render(
        self, request: web.Request, t: Translator, who: SignedIn, template: str, **values: object
    ) -> web.Response:
        status = values.pop("status", 200)
        assert isinstance(status, int)
        return self.site.render(request, t, who, template, status, **values)

    async def _audiences(self, t: Translator) -> list[tuple[str, str]]:
        """(value, label with its count on Telegram): what the chat's menu offers."""
        site = self.site
        options: list[tuple[str, str]] = []
        async with site.sessions() as session:
            for kind in audiences.AUDIENCE_KINDS:
                if kind not in audiences.AUDIENCE_WITH_VALUE:
                    audience = audiences.Audience(kind)
                    routes = site.context.routes
                    reach = await audiences.reach(session, audience, site.form.id, routes)
                    label = t(broadcast_text.AUDIENCE_LABELS[kind])
                    options.append((kind, _counted(t, label, reach.people)))
            for flag, count in await audiences.flag_counts(session, site.form.id):
                title = render.flag_title(t, site.form, flag, broadcast_text.LABEL_LENGTH)
                label = f"{flag.clause} {title}"
                options.append((f"flag:{flag.rule_id}", _counted(t, label, count)))
            found = await queries.events_with_counts(session, EVENTS_SHOWN, submitted_only=False)
            for event, count in found:
                label = f"{event.title} · {t.date(event.event_date)}"
                options.append((f"event:{event.id}", _counted(t, label, count)))
            languages = await audiences.language_counts(session, site.context.routes)
        for code in SUPPORTED:
            label = _counted(t, LANGUAGE_NAMES[code], languages.get(code, 0))
            options.append((f"language:{code}", label))
        return options

    async def compose(
        self,
        request: web.Request,
        who: SignedIn,
        t: Translator,
        *,
        text: str = "",
        audience: str = "all",
        error: str = "",
    ) -> web.Response:
        return self._render(
            request,
            t,
            who,
            "broadcast_new.html",
            status=400 if error else 200,
            options=await self._audiences(t),
            text=text,
            chosen=audience,
            error=Markup(error),
        )

    async def preview(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        text, audience = await _message_text(request), form.get("audience", "")
        if form.get("change"):  # back from the preview, with what was typed
            return await self.compose(request, who, t, text=text, audience=audience)
        chosen = parse_audience(audience)
        refused = check_message(Message(text))
        if refused is None and isinstance(chosen, Refused):
            refused = chosen  # the message's fault first, as queueing says
        if refused is not None or isinstance(chosen, Refused):
            said = refused.text(t) if refused else ""
            return await self.compose(request, who, t, text=text, audience=audience, error=said)
        site = self.site
        rates = site.context.route_rates()
        async with site.sessions() as session:
            planned = await broadcast_text.preview(session, site.form, t, chosen, rates)
        if planned.count == 0:
            none = t("broadcast.preview_none")
            return await self.compose(request, who, t, text=text, audience=audience, error=none)
        return self._render(
            request,
            t,
            who,
            "broadcast_preview.html",
            message=shown(text),
            summary=Markup("<br>".join(planned.lines)),
            text=text,
            audience=str(chosen),
        )

    async def queue(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        text, audience = await _message_text(request), form.get("audience", "")
        site = self.site
        async with site.sessions() as session:
            author = Author(None, t.locale)  # no Telegram user, no status message
            job = await queue_broadcast(
                session, site.form.id, author, audience, Message(text), site.context.routes
            )
            if isinstance(job, Refused):
                said = job.text(t)
                return await self.compose(request, who, t, text=text, audience=audience, error=said)
            await officers.record(
                session, who.officer, "broadcast_queue", _target(job.id, audience)
            )
            await session.commit()
        await site.context.wake_delivery()
        return see("/office/broadcasts")

    async def move(
        self, request: web.Request, who: SignedIn, t: Translator, form: dict[str, str]
    ) -> web.StreamResponse:
        to, site = request.match_info["to"], self.site
        async with site.sessions() as session:
            job = await broadcast_jobs.get_broadcast(session, int(request.match_info["id"]))
            if job is None or to not in MOVES:
                return site.not_found(request, t, who)
            moved, _ = await move_job(session, t, job, to)
            if moved:
                await officers.record(
                    session, who.officer, f"broadcast_{to}", _target(job.id, job.audience)
                )
            await session.commit()
        if moved:
            await site.context.wake_delivery()
        return see("/office/broadcasts")

    async def jobs(self, request: web.Request, who: SignedIn, t: Translator) -> web.Response:
        site = self.site
        async with site.sessions() as session:
            jobs = await broadcast_jobs.recent_broadcasts(session, broadcast_text.JOBS_SHOWN)
            ids = [j.id for j in jobs if j.id is not None]
            counts = await broadcast_jobs.state_counts(session, ids)
            rows = []
            for job in jobs:
                assert job.id is not None
                chosen = audiences.Audience.parse(job.audience)
                rows.append(
                    (
                        job,
                        t(broadcast_text.STATUS_NAMES[job.status]),
                        Markup(await broadcast_text.describe(session, site.form, t, chosen)),
                        Markup(broadcast_text.counts_line(t, job, counts[job.id])),
                        local_time(t, job.created_at),
                    )
                )
        running = any(j.status == broadcast_jobs.RUNNING for j in jobs)
        return self._render(
            request,
            t,
            who,
            "broadcasts.html",
            rows=rows,
            refresh=REFRESH_SECONDS if running else 0,
            running=broadcast_jobs.RUNNING,
            paused=broadcast_jobs.PAUSED,
        )


def _counted(t: Translator, label: str, count: int) -> str:
    return t("broadcast.audience_count", label=label, count=t.number(count))


def _target(job_id: int | None, audience: str) -> str:
    return f"#{job_id} {audience}"


async def _message_text(request: web.Request) -> str:
    """The message as typed: longer than the office's other fields (aiohttp keeps the
    parsed form, so this reads it again without reading the body again)."""
    posted = await request.post()
    text = posted.get("text", "")
    return text.replace("\r\n", "\n")[:MAX_TEXT] if isinstance(text, str) else ""
