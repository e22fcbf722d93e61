"""Queueing a broadcast, and pausing, resuming or stopping one: the admin's use cases,
the same from the chat, the terminal and (later) a web page. A message and its audience
are checked here, once; a refusal says why in a type the caller words for its medium."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from html import escape
from html.parser import HTMLParser

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.admin.broadcast_text import STATUS_NAMES
from locales import N_, SUPPORTED, Translator
from models import audiences, broadcast_jobs
from models.tables import Broadcast, Channel, MediaKind

TEXT_LIMIT = 4096  # Telegram's limits, in characters of the text as shown
CAPTION_LIMIT = 1024


@dataclass(frozen=True)
class Message:
    """What recipients get: Telegram HTML, alone or as the caption of one photo or file
    (by the platform's id, or its content to upload once)."""

    text: str
    kind: str | None = None  # "photo" | "document"; anything else cannot be broadcast
    file_id: str | None = None
    filename: str | None = None
    content: bytes | None = None


@dataclass(frozen=True)
class Author:
    user_id: int | None  # None: the terminal
    locale: str  # of the status message and the job list
    chat_id: int | None = None  # where the status message goes (None: nowhere)


class Reason(StrEnum):
    EMPTY = "empty"
    UNSUPPORTED = "unsupported"  # a sticker, a voice message …
    BAD_HTML = "bad_html"
    TOO_LONG = "too_long"
    BAD_AUDIENCE = "bad_audience"
    NOBODY = "nobody"  # the audience has no reachable recipient


@dataclass(frozen=True)
class Refused:
    reason: Reason
    problems: tuple[str, ...] = ()  # BAD_HTML: the tags or characters at fault
    length: int = 0  # TOO_LONG: of the text as shown, and the limit
    limit: int = 0

    def text(self, t: Translator) -> str:
        """In the chat's words (the terminal words EMPTY and BAD_AUDIENCE its own way)."""
        match self.reason:
            case Reason.EMPTY:
                return t("broadcast.empty")
            case Reason.UNSUPPORTED:
                return t("broadcast.unsupported")
            case Reason.BAD_HTML:
                return t("broadcast.bad_html", problems=escape(", ".join(self.problems)))
            case Reason.TOO_LONG:
                return t("broadcast.too_long", length=self.length, limit=self.limit)
            case Reason.NOBODY:
                return t("broadcast.preview_none")
        return t("error.stale_button")  # an audience no button offers


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


def check_message(message: Message) -> Refused | None:
    if message.kind is not None and message.kind not in tuple(MediaKind):
        return Refused(Reason.UNSUPPORTED)
    shown, problems = check_html(message.text)
    if problems:
        return Refused(Reason.BAD_HTML, tuple(problems))
    if not shown.strip() and message.kind is None:
        return Refused(Reason.EMPTY)
    limit = TEXT_LIMIT if message.kind is None else CAPTION_LIMIT
    if len(shown) > limit:
        return Refused(Reason.TOO_LONG, length=len(shown), limit=limit)
    return None


def parse_audience(text: str) -> audiences.Audience | Refused:
    try:
        audience = audiences.Audience.parse(text)
    except ValueError:
        return Refused(Reason.BAD_AUDIENCE)
    if audience.kind == "language" and audience.value not in SUPPORTED:
        return Refused(Reason.BAD_AUDIENCE)
    return audience


async def queue_broadcast(
    session: AsyncSession,
    programme_id: str,
    author: Author,
    audience: str,
    message: Message,
    routes: Collection[Channel],
) -> Broadcast | Refused:
    """The job and a row per recipient of the audience as it is now, on each route the
    deployment has (a web visitor's is in their inbox at once), in the caller's
    transaction (commit it, then wake the delivery runner)."""
    refused = check_message(message)
    if refused is not None:
        return refused
    chosen = parse_audience(audience)
    if isinstance(chosen, Refused):
        return chosen
    job = Broadcast(
        created_by=author.user_id,
        audience=str(chosen),
        text=message.text,
        media_kind=None if message.kind is None else MediaKind(message.kind),
        media_file_id=message.file_id,
        media_filename=message.filename,
        media_content=message.content,
        locale=author.locale,
        status_chat_id=author.chat_id,
    )
    job = await broadcast_jobs.create_broadcast(session, job, chosen, programme_id, routes)
    if job.total == 0:  # everyone left the audience since the preview
        await session.delete(job)
        await session.flush()
        return Refused(Reason.NOBODY)
    return job


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


async def left(session: AsyncSession, t: Translator, job_id: int) -> str:
    """How many messages of the job are still to go, as a number in words."""
    counts = (await broadcast_jobs.state_counts(session, [job_id]))[job_id]
    return t.number(counts[broadcast_jobs.PENDING] + counts[broadcast_jobs.SENDING])


async def move(
    session: AsyncSession, t: Translator, job: Broadcast, action: str
) -> tuple[bool, str]:
    """Pause, resume or stop a job (chat and terminal): whether it moved, what to say."""
    assert job.id is not None
    status, allowed, done = MOVES[action]
    if await broadcast_jobs.set_status(session, job.id, status, allowed) is None:
        return False, t("broadcast.not_changed", id=job.id, status=t(STATUS_NAMES[job.status]))
    return True, t(done, id=job.id, count=await left(session, t, job.id))  # counted if moved
