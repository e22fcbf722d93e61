"""/broadcast (admins): write a message, choose who gets it, see the exact count, confirm;
list, pause, resume and cancel jobs. Queueing is ``handlers.admin.broadcast_queue``'s, showing
``handlers.admin.broadcast_text``'s, delivery ``bot.delivery``'s.

The draft lives in ``Conversation.pending`` while the admin composes it (flow
``broadcast``): a ``handlers.kernel.pending.BroadcastDraft``. Confirming creates the job and its
recipient rows in the transaction that answers the button, so a double tap cannot start it twice.
"""

from __future__ import annotations

from html import escape

from handlers.admin.broadcast_queue import (
    MOVES,
    Author,
    Message,
    Reason,
    Refused,
    check_message,
    left,
    move,
    queue_broadcast,
)
from handlers.admin.broadcast_text import (
    AUDIENCE_LABELS,
    BUTTONS,
    LABEL_LENGTH,
    job_buttons,
    jobs_text,
    message_reply,
    preview,
)
from handlers.kernel import pending, render
from handlers.kernel.commands import Command, as_row_id
from handlers.kernel.context import Turn
from handlers.kernel.pending import BroadcastDraft
from handlers.kernel.types import Button, Reply
from locales import LANGUAGE_NAMES, N_, SUPPORTED, Translator
from models import audiences, broadcast_jobs, queries
from models.tables import Broadcast, Conversation, Flow

FLOW = Flow.BROADCAST
EVENTS_SHOWN = 10
FLAGS_SHOWN = 12


def _draft_reply(message: Message) -> Reply:
    return message_reply(message.text, message.kind, message.file_id, message.filename)


def _draft(conversation: Conversation) -> BroadcastDraft:
    """The draft being composed; none (say, another flow's pending): start afresh."""
    return pending.get(conversation, BroadcastDraft) or BroadcastDraft()


def _counted(t: Translator, label: str, count: int) -> str:
    return t("broadcast.audience_count", label=label, count=t.number(count))


async def audience_menu(turn: Turn, *, edit: bool) -> Reply:
    t, session, programme = turn.t, turn.session, turn.form.id
    rows: list[tuple[Button, ...]] = []
    for kind in audiences.AUDIENCE_KINDS:
        label = t(AUDIENCE_LABELS[kind])
        if kind not in audiences.AUDIENCE_WITH_VALUE:
            audience = audiences.Audience(kind)
            reach = await audiences.reach(session, audience, programme, turn.context.routes)
            label = _counted(t, label, reach.people)
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
            counts = await audiences.language_counts(turn.session, turn.context.routes)
            for code in SUPPORTED:
                label = _counted(t, LANGUAGE_NAMES[code], counts.get(code, 0))
                buttons.append(render.button(label, BUTTONS.data("aud", "language", code)))
            title = empty = N_("broadcast.choose_language")
    back = (render.button(t("broadcast.button.back"), BUTTONS.data("back")),)
    if not buttons:
        return Reply(t(empty), (back,), edit=True)
    return Reply(t(title), (*((b,) for b in buttons), back), edit=True)


async def _preview(turn: Turn, audience: audiences.Audience) -> list[Reply]:
    t = turn.t
    draft = _draft(turn.conversation)
    assert draft.message is not None  # an audience is offered only once there is a message
    shown = await preview(turn.session, turn.form, t, audience, turn.context.route_rates())
    chosen = Reply(t("broadcast.audience_chosen", audience=shown.described), edit=True)
    change = render.button(t("broadcast.button.change_audience"), BUTTONS.data("back"))
    cancel = render.button(t("broadcast.button.cancel"), BUTTONS.data("drop"))
    if shown.count == 0:
        draft.step = "audience"
        pending.put(turn.conversation, draft)
        return [chosen, Reply(t("broadcast.preview_none"), ((change,), (cancel,)))]
    draft.step, draft.audience = "confirm", str(audience)
    pending.put(turn.conversation, draft)
    send = render.button(t("broadcast.button.send"), BUTTONS.data("send"))
    keyboard = ((send, cancel), (change,))
    return [chosen, _draft_reply(draft.message), Reply("\n".join(shown.lines), keyboard)]


# ------------------------------------------------------------------ composing


def compose(turn: Turn) -> list[Reply]:
    turn.conversation.flow = FLOW
    pending.put(turn.conversation, BroadcastDraft())
    jobs = render.button(turn.t("broadcast.button.jobs"), BUTTONS.data("list"))
    return [Reply(turn.t("broadcast.compose"), ((jobs,),))]


async def on_message(turn: Turn) -> list[Reply]:
    """The message to broadcast (again, if the admin sends another one)."""
    event, t = turn.event, turn.t
    attachment = event.attachment
    message = Message(
        event.html if event.html is not None else escape(event.text or ""),
        attachment.kind if attachment else None,
        attachment.file_id if attachment else None,
        attachment.filename if attachment else None,
    )
    refused = check_message(message)  # at once, not only when it is sent
    if refused is not None:
        return [Reply(refused.text(t))]
    pending.put(turn.conversation, BroadcastDraft(step="audience", message=message))
    return [await audience_menu(turn, edit=False)]


async def _confirm(turn: Turn) -> list[Reply]:
    t = turn.t
    draft = _draft(turn.conversation)
    assert draft.message is not None and draft.audience is not None  # step "confirm"
    author = Author(turn.user.id, turn.user.locale, turn.event.chat_id)
    job = await queue_broadcast(
        turn.session, turn.form.id, author, draft.audience, draft.message, turn.context.routes
    )
    if isinstance(job, Refused):
        if job.reason != Reason.NOBODY:  # checked as it was written: never expected
            return [Reply(job.text(t))]
        # Everyone left the audience since the preview.
        draft.step = "audience"
        pending.put(turn.conversation, draft)
        return [
            Reply(t("broadcast.preview_none"), edit=True),
            await audience_menu(turn, edit=False),
        ]
    turn.conversation.flow = None
    pending.put(turn.conversation, None)
    turn.after_commit(turn.context.wake_delivery)
    if turn.context.sender:
        text = t.plural("broadcast.started", "broadcast.started.plural", job.total, id=job.id)
    else:
        text = t.plural(
            "broadcast.queued_offline", "broadcast.queued_offline.plural", job.total, id=job.id
        )
    return [Reply(text, edit=True)]


# ------------------------------------------------------------------ jobs


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
    number = as_row_id(text)
    return None if number is None else await broadcast_jobs.get_broadcast(turn.session, number)


async def control(turn: Turn, action: str, job_id: str, origin: str) -> list[Reply]:
    """Pause, resume, cancel (asks first), stop (cancel confirmed), keep (not cancelled)."""
    t = turn.t
    job = await _job(turn, job_id)
    if job is None or job.id is None:
        return [Reply(t("broadcast.not_found", id=escape(job_id)))]
    if action == "cancel" and job.status in (broadcast_jobs.RUNNING, broadcast_jobs.PAUSED):
        remaining = await left(turn.session, t, job.id)
        keyboard = (
            (
                render.button(
                    t("broadcast.button.stop_confirm"), BUTTONS.data("stop", job.id, origin)
                ),
                render.button(t("broadcast.button.keep"), BUTTONS.data("keep", job.id, origin)),
            ),
        )
        return [Reply(t("broadcast.confirm_cancel", id=job.id, count=remaining), keyboard)]
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
    draft = _draft(turn.conversation)
    composing = turn.conversation.flow == FLOW
    match kind:
        case "list":
            return await list_jobs(turn)
        case "pause" | "resume" | "cancel" | "stop" | "keep":
            job_id, _, origin = rest.partition(":")
            return await control(turn, kind, job_id, origin)
        case "drop" if composing:
            turn.conversation.flow = None
            pending.put(turn.conversation, None)
            return [Reply(turn.t("broadcast.dropped"), edit=True)]
        case "back" if composing and draft.message is not None:
            draft.step = "audience"
            pending.put(turn.conversation, draft)
            return [await audience_menu(turn, edit=True)]
        case "aud" if composing and draft.message is not None:
            audience_kind, _, value = rest.partition(":")
            if audience_kind in audiences.AUDIENCE_WITH_VALUE and not value:
                return [await _values_menu(turn, audience_kind)]
            try:
                audience = audiences.Audience.parse(rest)
            except ValueError:
                return [Reply(turn.t("error.stale_button"))]
            return await _preview(turn, audience)
        case "send" if composing and draft.step == "confirm":
            return await _confirm(turn)
    return [Reply(turn.t("error.stale_button"))]


COMMAND = Command("broadcast", N_("command.broadcast"), command, admin=True)
