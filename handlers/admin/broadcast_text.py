"""How a broadcast is shown: the message as recipients get it, its audience in words, the
preview, the admin's status message with its bar and buttons, and the job list. Shared by
the chat (``handlers.admin.broadcast``), the terminal (``bot.broadcast_cli``) and the delivery
runner, which edits the status message as the job goes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from sqlmodel.ext.asyncio.session import AsyncSession

from forms.definition import Form
from handlers.kernel import render
from handlers.kernel.commands import Buttons
from handlers.kernel.types import Document, Keyboard, Reply
from locales import LANGUAGE_NAMES, LOCAL_TIME, N_, Translator
from models import audiences, broadcast_jobs
from models.tables import Broadcast, Channel, TrainingEvent

BUTTONS = Buttons("bc", admin=True)  # every broadcast button, the status message's too
JOBS_SHOWN = 10
REASONS_SHOWN = 3
BAR_CELLS = 12
LABEL_LENGTH = 36  # of a flag's description on a button
INTERRUPTED = "interrupted"  # the error stored for a message a restart cut off mid-send

STATUS_HEADINGS = {
    broadcast_jobs.RUNNING: N_("broadcast.status.running"),
    broadcast_jobs.PAUSED: N_("broadcast.status.paused"),
    broadcast_jobs.CANCELLED: N_("broadcast.status.cancelled"),
    broadcast_jobs.DONE: N_("broadcast.status.done"),
}
STATUS_NAMES = {
    broadcast_jobs.RUNNING: N_("broadcast.state.running"),
    broadcast_jobs.PAUSED: N_("broadcast.state.paused"),
    broadcast_jobs.CANCELLED: N_("broadcast.state.cancelled"),
    broadcast_jobs.DONE: N_("broadcast.state.done"),
}
AUDIENCE_LABELS = {
    "all": N_("broadcast.audience.all"),
    "unfinished": N_("broadcast.audience.unfinished"),
    "eligible": N_("broadcast.audience.eligible"),
    "flag": N_("broadcast.audience.flag"),
    "event": N_("broadcast.audience.event"),
    "language": N_("broadcast.audience.language"),
}


def message_reply(
    text: str,
    kind: str | None,
    file_id: str | None,
    filename: str | None,
    content: bytes | None = None,
) -> Reply:
    """The broadcast as each recipient gets it: a text, or a photo or file with a caption."""
    if kind is None:
        return Reply(text)
    file = Document(filename or "", content or b"", text, file_id)
    return Reply(photo=file) if kind == "photo" else Reply(document=file)


def message_of(job: Broadcast) -> Reply:
    return message_reply(
        job.text, job.media_kind, job.media_file_id, job.media_filename, job.media_content
    )


async def describe(
    session: AsyncSession, form: Form, t: Translator, audience: audiences.Audience
) -> str:
    """The audience in words, as the preview and the job list say it."""
    match audience.kind:
        case "flag":
            rule = form.rule(audience.value)
            if rule is not None:  # no query: the job list describes up to ten jobs
                name = f"{rule.clause} {t(rule.title)}"
            else:  # a rule the programme no longer has: as its flags were stored
                flags = {f.rule_id: f for f, _ in await audiences.flag_counts(session, form.id)}
                flag = flags.get(audience.value)
                name = audience.value
                if flag is not None:
                    name = f"{flag.clause} {render.flag_title(t, form, flag, LABEL_LENGTH)}"
            return t("broadcast.audience.flag_value", flag=escape(name))
        case "event":
            event = await session.get(TrainingEvent, int(audience.value))
            if event is None:
                return t("broadcast.audience.event_value", title="#" + audience.value, date="")
            return t(
                "broadcast.audience.event_value",
                title=escape(event.title),
                date=t.date(event.event_date),
            )
        case "language":
            name = LANGUAGE_NAMES.get(audience.value, audience.value)
            return t("broadcast.audience.language_value", language=name)
    return t(AUDIENCE_LABELS[audience.kind])


def duration(t: Translator, seconds: float) -> str:
    whole = max(1, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return t("broadcast.duration.hours", h=hours, m=minutes)
    if minutes:
        return t("broadcast.duration.minutes", m=minutes, s=secs)
    return t("broadcast.duration.seconds", s=secs)


@dataclass(frozen=True)
class Preview:
    """What a broadcast to an audience would do, as the chat, the terminal and the office
    show it before it is confirmed."""

    described: str  # the audience in words
    count: int  # the people it reaches, on any route
    lines: list[str]  # who gets it on which route, how long it takes, who it cannot reach


# How each route is said in a preview.
ROUTE_LINES = {
    Channel.TELEGRAM: N_("broadcast.preview_route.telegram"),
    Channel.EMAIL: N_("broadcast.preview_route.email"),
}


async def preview(
    session: AsyncSession,
    form: Form,
    t: Translator,
    audience: audiences.Audience,
    rates: Mapping[Channel, float | None],
) -> Preview:
    """``rates``: the routes this deployment delivers on, with their messages per second
    (the web inbox has none: a visitor's copy is there as the job is queued)."""
    reach = await audiences.reach(session, audience, form.id, rates.keys())
    described = await describe(session, form, t, audience)
    lines = [t("broadcast.preview", audience=described, count=t.number(reach.people))]
    for route, key in ROUTE_LINES.items():
        if reach.routes[route]:
            count, rate = reach.routes[route], rates[route] or 1.0
            said = {"count": t.number(count), "rate": t.number(rate)}
            lines.append(t(key, **said, duration=duration(t, count / rate)))
    if reach.routes[Channel.WEB]:
        lines.append(t("broadcast.preview_route.web", count=t.number(reach.routes[Channel.WEB])))
    lines += _unreached_lines(t, reach.unreached)
    return Preview(described, reach.people, lines)


def _unreached_lines(t: Translator, unreached: Counter[str]) -> list[str]:
    """Who the broadcast cannot reach, by why (audiences.Reach)."""
    lines = []
    if n := unreached["blocked"]:
        lines.append(
            t.plural("broadcast.preview_unreachable", "broadcast.preview_unreachable.plural", n)
        )
    if n := unreached["no_telegram"]:
        lines.append(
            t.plural("broadcast.preview_no_telegram", "broadcast.preview_no_telegram.plural", n)
        )
    if n := unreached["terminal"]:
        lines.append(t.plural("broadcast.preview_terminal", "broadcast.preview_terminal.plural", n))
    return lines


def counts_line(t: Translator, job: Broadcast, counts: Counter[str]) -> str:
    """Sent counts a web visitor's copy once a page showed it; until then it waits in
    their inbox, neither sent nor still to send."""
    line = t(
        "broadcast.counts",
        sent=t.number(counts[broadcast_jobs.SENT]),
        failed=t.number(counts[broadcast_jobs.FAILED]),
        unreachable=t.number(counts[broadcast_jobs.BLOCKED]),
        remaining=t.number(counts[broadcast_jobs.PENDING] + counts[broadcast_jobs.SENDING]),
        total=t.number(job.total),
    )
    if counts[broadcast_jobs.INBOX]:
        line += "\n" + t("broadcast.counts_inbox", count=t.number(counts[broadcast_jobs.INBOX]))
    return line


def status_reply(
    t: Translator,
    job: Broadcast,
    counts: Counter[str],
    *,
    rate: float | None = None,
    reasons: Sequence[tuple[str, int]] = (),
) -> Reply:
    """The admin's status message: a bar, the counts, the rate and ETA; buttons to pause,
    resume or cancel while it can be."""
    total = job.total
    remaining = counts[broadcast_jobs.PENDING] + counts[broadcast_jobs.SENDING]
    finished = total - remaining
    cells = round(BAR_CELLS * finished / total) if total else BAR_CELLS
    percent = t.percent(_ratio(finished, total), digits=0)
    lines = [
        t(STATUS_HEADINGS[job.status], id=job.id),
        f"{'▓' * cells}{'░' * (BAR_CELLS - cells)} {percent}",
        counts_line(t, job, counts),
    ]
    if job.status == broadcast_jobs.RUNNING and rate:
        lines.append(t("broadcast.rate", rate=t.number(rate, 1), eta=duration(t, remaining / rate)))
    if job.status == broadcast_jobs.DONE and job.started_at and job.finished_at:
        lines.append(
            t(
                "broadcast.took",
                duration=duration(t, (job.finished_at - job.started_at).total_seconds()),
            )
        )
    if reasons:
        lines.append(t("broadcast.reasons"))
        for reason, count in reasons:
            shown = t("broadcast.reason.interrupted") if reason == INTERRUPTED else escape(reason)
            lines.append(t("broadcast.reason_line", reason=shown, count=t.number(count)))
    return Reply("\n".join(lines), job_buttons(t, job, "s"))


def _ratio(part: int, whole: int) -> Decimal:
    return Decimal(part) / Decimal(whole) if whole else Decimal(1)


def job_buttons(t: Translator, job: Broadcast, origin: str) -> Keyboard:
    """``origin``: "s" pressed on the status message, "l" on the job list."""
    if job.status == broadcast_jobs.RUNNING:
        toggle = render.button(t("broadcast.button.pause"), BUTTONS.data("pause", job.id, origin))
    elif job.status == broadcast_jobs.PAUSED:
        toggle = render.button(t("broadcast.button.resume"), BUTTONS.data("resume", job.id, origin))
    else:
        return ()
    stop = render.button(t("broadcast.button.stop"), BUTTONS.data("cancel", job.id, origin))
    return ((toggle, stop),)


async def jobs_text(
    session: AsyncSession, form: Form, t: Translator, none: str = N_("broadcast.no_jobs")
) -> tuple[str, list[Broadcast]]:
    """The latest jobs, a line each (the chat adds buttons, the terminal prints it);
    ``none`` says how to make one where there is none (a chat or a terminal command)."""
    jobs = await broadcast_jobs.recent_broadcasts(session, JOBS_SHOWN)
    if not jobs:
        return t(none), []
    counts = await broadcast_jobs.state_counts(session, [j.id for j in jobs if j.id is not None])
    lines = [t("broadcast.jobs_title", count=len(jobs))]
    for job in jobs:
        assert job.id is not None
        audience = await describe(session, form, t, audiences.Audience.parse(job.audience))
        lines.append(
            t(
                "broadcast.job_line",
                id=job.id,
                status=t(STATUS_NAMES[job.status]),
                sent=t.number(counts[job.id][broadcast_jobs.SENT]),
                total=t.number(job.total),
                created=t.datetime(job.created_at.astimezone(LOCAL_TIME)),
                audience=audience,
            )
        )
    return "\n".join(lines), jobs
