"""/broadcast (admins): write a message, choose who gets it, see the exact count, confirm;
list, pause, resume and cancel jobs. Delivery itself is ``handlers.delivery``'s.

The draft lives in ``Conversation.pending`` while the admin composes it (flow
``broadcast``): ``{"step": "compose" | "audience" | "confirm", "message": {...},
"audience": "eligible"}``. Confirming creates the job and its recipient rows in the
transaction that answers the button, so a double tap cannot start it twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape
from html.parser import HTMLParser
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forms.answers import LOCAL_TIME
from forms.definition import Form
from handlers import render
from handlers.commands import Buttons, Command
from handlers.context import Turn
from handlers.types import Button, Document, Keyboard, Reply
from locales import LANGUAGE_NAMES, N_, SUPPORTED, Translator
from models import audiences, broadcast_jobs, queries
from models.tables import Broadcast, Event

FLOW = "broadcast"
BUTTONS = Buttons("bc", admin=True)
TEXT_LIMIT = 4096  # Telegram's limits, in characters of the text as shown
CAPTION_LIMIT = 1024
JOBS_SHOWN = 10
EVENTS_SHOWN = 10
FLAGS_SHOWN = 12
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


# ------------------------------------------------------------------ the message


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


def _draft_reply(message: Mapping[str, Any]) -> Reply:
    return message_reply(message["text"], message["kind"], message["file_id"], message["filename"])


class _TelegramHtml(HTMLParser):
    """Checks text against the HTML subset Telegram accepts (for text typed in the terminal;
    the chat hands over HTML Telegram itself made)."""

    TAGS = frozenset(
        {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
        | {"span", "tg-spoiler", "tg-emoji", "blockquote"}
    )
    ENTITIES = frozenset({"lt", "gt", "amp", "quot"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.TAGS:
            self.errors.append(f"<{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}>")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.errors.append(data.strip()[:20])
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in self.ENTITIES:
            self.errors.append(f"&{name};")
        self.text.append("&")

    def handle_charref(self, name: str) -> None:
        self.text.append("#")


def check_html(text: str) -> tuple[str, list[str]]:
    """(the text as shown, the problems found: unknown tags, unclosed tags, stray < > &)."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    errors = parser.errors + [f"<{tag}>" for tag in parser.open]
    if parser.rawdata:  # an unfinished tag at the end
        errors.append(parser.rawdata[:20])
    return "".join(parser.text), errors


def length_error(t: Translator, shown: str, with_file: bool) -> str | None:
    limit = CAPTION_LIMIT if with_file else TEXT_LIMIT
    if len(shown) > limit:
        return t("broadcast.too_long", length=len(shown), limit=limit)
    return None


# ------------------------------------------------------------------ audiences


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
            event = await session.get(Event, int(audience.value))
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


def _counted(t: Translator, label: str, count: int) -> str:
    return t("broadcast.audience_count", label=label, count=t.number(count))


async def audience_menu(turn: Turn, *, edit: bool) -> Reply:
    t, session, programme = turn.t, turn.session, turn.form.id
    rows: list[tuple[Button, ...]] = []
    for kind in audiences.AUDIENCE_KINDS:
        label = t(AUDIENCE_LABELS[kind])
        if kind not in audiences.AUDIENCE_WITH_VALUE:
            count, _ = await audiences.count_audience(session, audiences.Audience(kind), programme)
            label = _counted(t, label, count)
        else:
            label += " …"
        rows.append((render.button(label, BUTTONS.data("aud", kind)),))
    rows.append((render.button(t("broadcast.button.cancel"), BUTTONS.data("drop")),))
    return Reply(t("broadcast.choose_audience"), tuple(rows), edit=edit)


async def _values_menu(turn: Turn, kind: str) -> Reply:
    """The second step of a flag / event / language audience."""
    t = turn.t
    buttons: list[Button] = []
    match kind:
        case "flag":
            for flag, count in (await audiences.flag_counts(turn.session, turn.form.id))[
                :FLAGS_SHOWN
            ]:
                icon = render.SEVERITY_ICONS.get(flag.severity, "")
                title = render.flag_title(t, turn.form, flag, LABEL_LENGTH)
                label = f"{icon} {flag.clause} {title}"
                buttons.append(
                    render.button(
                        _counted(t, label, count), BUTTONS.data("aud", "flag", flag.rule_id)
                    )
                )
            title, empty = N_("broadcast.choose_flag"), N_("broadcast.no_flags")
        case "event":
            session = turn.session
            found = await queries.events_with_counts(session, EVENTS_SHOWN, submitted_only=False)
            for event, count in found:
                label = f"{event.title} · {t.date(event.event_date)}"
                buttons.append(
                    render.button(_counted(t, label, count), BUTTONS.data("aud", "event", event.id))
                )
            title, empty = N_("broadcast.choose_event"), N_("broadcast.no_events")
        case _:
            counts = await audiences.language_counts(turn.session)
            for code in SUPPORTED:
                label = _counted(t, LANGUAGE_NAMES[code], counts.get(code, 0))
                buttons.append(render.button(label, BUTTONS.data("aud", "language", code)))
            title = empty = N_("broadcast.choose_language")
    back = (render.button(t("broadcast.button.back"), BUTTONS.data("back")),)
    if not buttons:
        return Reply(t(empty), (back,), edit=True)
    return Reply(t(title), (*((b,) for b in buttons), back), edit=True)


def duration(t: Translator, seconds: float) -> str:
    whole = max(1, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return t("broadcast.duration.hours", h=hours, m=minutes)
    if minutes:
        return t("broadcast.duration.minutes", m=minutes, s=secs)
    return t("broadcast.duration.seconds", s=secs)


async def _preview(turn: Turn, audience: audiences.Audience) -> list[Reply]:
    t = turn.t
    pending = dict(turn.conversation.pending or {})
    count, unreachable = await audiences.count_audience(turn.session, audience, turn.form.id)
    described = await describe(turn.session, turn.form, t, audience)
    chosen = Reply(t("broadcast.audience_chosen", audience=described), edit=True)
    change = render.button(t("broadcast.button.change_audience"), BUTTONS.data("back"))
    cancel = render.button(t("broadcast.button.cancel"), BUTTONS.data("drop"))
    if count == 0:
        pending["step"] = "audience"
        turn.conversation.pending = pending
        return [chosen, Reply(t("broadcast.preview_none"), ((change,), (cancel,)))]
    pending |= {"step": "confirm", "audience": str(audience)}
    turn.conversation.pending = pending
    lines = preview_lines(t, described, count, unreachable, turn.context.broadcast_rate)
    send = render.button(t("broadcast.button.send"), BUTTONS.data("send"))
    keyboard = ((send, cancel), (change,))
    return [chosen, _draft_reply(pending["message"]), Reply("\n".join(lines), keyboard)]


def preview_lines(
    t: Translator, described: str, count: int, unreachable: int, rate: float
) -> list[str]:
    """Who gets it, how many, how long it takes (chat and terminal)."""
    lines = [
        t(
            "broadcast.preview",
            audience=described,
            count=t.number(count),
            rate=t.number(rate),
            duration=duration(t, count / rate),
        )
    ]
    if unreachable:
        lines.append(
            t.plural(
                "broadcast.preview_unreachable", "broadcast.preview_unreachable.plural", unreachable
            )
        )
    return lines


# ------------------------------------------------------------------ composing


def compose(turn: Turn) -> list[Reply]:
    turn.conversation.flow = FLOW
    turn.conversation.pending = {"step": "compose"}
    jobs = render.button(turn.t("broadcast.button.jobs"), BUTTONS.data("list"))
    return [Reply(turn.t("broadcast.compose"), ((jobs,),))]


async def on_message(turn: Turn) -> list[Reply]:
    """The message to broadcast (again, if the admin sends another one)."""
    event, t = turn.event, turn.t
    attachment = event.attachment
    text = event.html if event.html is not None else escape(event.text or "")
    if not text.strip() and attachment is None:
        return [Reply(t("broadcast.empty"))]
    if attachment is not None and attachment.kind == "other":
        return [Reply(t("broadcast.unsupported"))]
    shown, _ = check_html(text)  # Telegram's own HTML: every tag it accepts is markup
    error = length_error(t, shown, attachment is not None)
    if error:
        return [Reply(error)]
    message = {
        "text": text,
        "kind": attachment.kind if attachment else None,
        "file_id": attachment.file_id if attachment else None,
        "filename": attachment.filename if attachment else None,
    }
    turn.conversation.pending = {"step": "audience", "message": message}
    return [await audience_menu(turn, edit=False)]


async def _confirm(turn: Turn) -> list[Reply]:
    t = turn.t
    pending = turn.conversation.pending or {}
    audience = audiences.Audience.parse(pending["audience"])
    message = pending["message"]
    job = Broadcast(
        created_by=turn.user.id,
        audience=str(audience),
        text=message["text"],
        media_kind=message["kind"],
        media_file_id=message["file_id"],
        media_filename=message["filename"],
        locale=turn.user.locale,
        status_chat_id=turn.event.chat_id,
    )
    job = await broadcast_jobs.create_broadcast(turn.session, job, audience, turn.form.id)
    if job.total == 0:  # everyone left the audience since the preview
        pending = {**pending, "step": "audience"}
        turn.conversation.pending = pending
        return [
            Reply(t("broadcast.preview_none"), edit=True),
            await audience_menu(turn, edit=False),
        ]
    turn.conversation.flow = None
    turn.conversation.pending = None
    turn.after_commit(turn.context.wake_delivery)
    if turn.context.sender:
        text = t.plural("broadcast.started", "broadcast.started.plural", job.total, id=job.id)
    else:
        text = t.plural(
            "broadcast.queued_offline", "broadcast.queued_offline.plural", job.total, id=job.id
        )
    return [Reply(text, edit=True)]


# ------------------------------------------------------------------ jobs


def counts_line(t: Translator, job: Broadcast, counts: Counter[str]) -> str:
    return t(
        "broadcast.counts",
        sent=t.number(counts[broadcast_jobs.SENT]),
        failed=t.number(counts[broadcast_jobs.FAILED]),
        unreachable=t.number(counts[broadcast_jobs.BLOCKED]),
        remaining=t.number(counts[broadcast_jobs.PENDING] + counts[broadcast_jobs.SENDING]),
        total=t.number(job.total),
    )


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


async def list_jobs(turn: Turn, *, edit: bool = False) -> list[Reply]:
    t = turn.t
    text, jobs = await jobs_text(turn.session, turn.form, t)
    keyboard = [
        tuple(Button(f"#{job.id} {b.text}", b.data) for b in row)
        for job in jobs
        for row in job_buttons(t, job, "l")
    ]
    return [Reply(text, tuple(keyboard), edit=edit)]


async def _job(turn: Turn, text: str) -> Broadcast | None:
    return await broadcast_jobs.get_broadcast(turn.session, int(text)) if text.isdigit() else None


# action → (new status, from which statuses, what is said)
MOVES = {
    "pause": (broadcast_jobs.PAUSED, (broadcast_jobs.RUNNING,), N_("broadcast.paused")),
    "resume": (broadcast_jobs.RUNNING, (broadcast_jobs.PAUSED,), N_("broadcast.resumed")),
    "stop": (
        broadcast_jobs.CANCELLED,
        (broadcast_jobs.RUNNING, broadcast_jobs.PAUSED),
        N_("broadcast.cancelled"),
    ),
}


async def _left(session: AsyncSession, t: Translator, job_id: int) -> str:
    counts = (await broadcast_jobs.state_counts(session, [job_id]))[job_id]
    return t.number(counts[broadcast_jobs.PENDING] + counts[broadcast_jobs.SENDING])


async def move(
    session: AsyncSession, t: Translator, job: Broadcast, action: str
) -> tuple[bool, str]:
    """Pause, resume or stop a job (chat and terminal): whether it moved, what to say."""
    assert job.id is not None
    status, allowed, done = MOVES[action]
    left = await _left(session, t, job.id)
    if await broadcast_jobs.set_status(session, job.id, status, allowed) is None:
        return False, t("broadcast.not_changed", id=job.id, status=t(STATUS_NAMES[job.status]))
    return True, t(done, id=job.id, count=left)


async def control(turn: Turn, action: str, job_id: str, origin: str) -> list[Reply]:
    """Pause, resume, cancel (asks first), stop (cancel confirmed), keep (not cancelled)."""
    t = turn.t
    job = await _job(turn, job_id)
    if job is None or job.id is None:
        return [Reply(t("broadcast.not_found", id=escape(job_id)))]
    if action == "cancel" and job.status in (broadcast_jobs.RUNNING, broadcast_jobs.PAUSED):
        left = await _left(turn.session, t, job.id)
        keyboard = (
            (
                render.button(
                    t("broadcast.button.stop_confirm"), BUTTONS.data("stop", job.id, origin)
                ),
                render.button(t("broadcast.button.keep"), BUTTONS.data("keep", job.id, origin)),
            ),
        )
        return [Reply(t("broadcast.confirm_cancel", id=job.id, count=left), keyboard)]
    if action == "keep":
        return [Reply(t("broadcast.kept", id=job.id), edit=True)]
    if action not in MOVES:
        return [Reply(t("error.stale_button"))]
    moved, text = await move(turn.session, t, job, action)
    if not moved:
        return [Reply(text)]
    turn.after_commit(turn.context.wake_delivery)  # the runner edits the status message
    said = Reply(text, edit=action == "stop")
    if origin == "l":  # pressed on the list: show it again, changed
        return [said, *await list_jobs(turn)]
    return [said]


# ------------------------------------------------------------------ entry points


async def command(turn: Turn) -> list[Reply]:
    """/broadcast, /broadcast list, /broadcast pause|resume|cancel <id>."""
    words = turn.event.args.split()
    if not words:
        return compose(turn)
    if words[0] == "list" and len(words) == 1:
        return await list_jobs(turn)
    if words[0] in ("pause", "resume", "cancel") and len(words) == 2:
        return await control(turn, words[0], words[1].lstrip("#"), "c")
    return [Reply(turn.t("broadcast.usage"))]


async def on_button(turn: Turn, data: str) -> list[Reply]:
    """``bc:…`` buttons (the router has checked the admin)."""
    kind, _, rest = data.partition(":")
    pending = turn.conversation.pending or {}
    composing = turn.conversation.flow == FLOW
    match kind:
        case "list":
            return await list_jobs(turn)
        case "pause" | "resume" | "cancel" | "stop" | "keep":
            job_id, _, origin = rest.partition(":")
            return await control(turn, kind, job_id, origin)
        case "drop" if composing:
            turn.conversation.flow = None
            turn.conversation.pending = None
            return [Reply(turn.t("broadcast.dropped"), edit=True)]
        case "back" if composing and "message" in pending:
            turn.conversation.pending = {**pending, "step": "audience"}
            return [await audience_menu(turn, edit=True)]
        case "aud" if composing and "message" in pending:
            audience_kind, _, value = rest.partition(":")
            if audience_kind in audiences.AUDIENCE_WITH_VALUE and not value:
                return [await _values_menu(turn, audience_kind)]
            try:
                audience = audiences.Audience.parse(rest)
            except ValueError:
                return [Reply(turn.t("error.stale_button"))]
            return await _preview(turn, audience)
        case "send" if composing and pending.get("step") == "confirm":
            return await _confirm(turn)
    return [Reply(turn.t("error.stale_button"))]


COMMAND = Command("broadcast", N_("command.broadcast"), command, admin=True)
