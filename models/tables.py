"""The tables. Times are aware UTC datetimes (SQLModel's UTCDateTime on every database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import AutoString, Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Channel(StrEnum):
    """Where a person is, recorded at first contact: what reaches them, what the privacy
    notice says, how the office pages name them. Never read from the shape of an id."""

    TELEGRAM = "telegram"
    WEB = "web"  # a browser: no Telegram account, a random id in a signed cookie
    CONSOLE = "console"  # the operator at the server's terminal
    # Only a route of a broadcast, never a user's channel: the address they gave for notices.
    EMAIL = "email"


# The office itself as an actor: the operator at the server's terminal (the console's
# user, the CLI) and the officers on the office pages (the audit names which). Stands in
# created_by / added_by where no Telegram user or web visitor did it.
SYSTEM_ACTOR = 0


E = TypeVar("E", bound=StrEnum)


class Stored(TypeDecorator[E]):
    """A column of one StrEnum's values, stored as the very strings they always were (a
    plain VARCHAR: no database enum type, no migration), read back as members. A string
    of no member is refused before it is written."""

    impl = AutoString
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class ApplicationStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Verdict(StrEnum):
    """An eligibility application's, at submission."""

    ELIGIBLE = "eligible"
    ELIGIBLE_WITH_POINTS = "eligible_with_points"
    NOT_ELIGIBLE = "not_eligible"


class Severity(StrEnum):
    """A flag's: the rule's (``forms.definition.Severity``), the worst first."""

    DISQUALIFY = "disqualify"
    WARNING = "warning"
    REVIEW = "review"


class MediaKind(StrEnum):
    """What a broadcast carries besides its text, if anything."""

    PHOTO = "photo"
    DOCUMENT = "document"


class JobStatus(StrEnum):
    """A broadcast's."""

    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class RecipientState(StrEnum):
    """A broadcast recipient's: pending → sending (in flight) → sent | failed | blocked."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    # A web visitor's copy, in their inbox until a page shows it (then sent: sent_at, when).
    INBOX = "inbox"


class User(SQLModel, table=True):
    # Telegram user ids exceed 32 bits.
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    channel: Channel = Field(
        default=Channel.TELEGRAM,
        sa_column=Column(Stored(Channel), nullable=False, server_default=Channel.TELEGRAM.value),
    )
    display_name: str | None = None
    locale: str
    created_at: datetime = Field(default_factory=utcnow)
    privacy_seen_at: datetime | None = None
    # Telegram said the user blocked the bot or is gone: left out of broadcasts until they
    # write to the bot again.
    unreachable_at: datetime | None = None
    # An address for notices, given with consent (asked once: email_asked_at), and why mail
    # to it failed for good (it is not used again until they give another).
    email: str | None = None
    email_asked_at: datetime | None = None
    email_failed: str | None = None


class TrainingEvent(SQLModel, table=True):
    """A training / guidance event whose attendees rate it (clause K4). Not to be confused
    with an incoming update (``handlers.kernel.types.Event``)."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)  # in the deep link: ?start=survey-<code>
    title: str
    event_date: date
    place: str
    closes_at: datetime | None = None
    closed: bool = False
    survey_id: str  # the survey form file
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class CheckIn(SQLModel, table=True):
    """An attendee's check-in card for a training event (签到): a code, handed out at the
    door from the office's list, that takes one survey response. The first person to
    type it checks in with it (``user_id``, when); nobody else can use it, and nobody
    checks in twice at one event."""

    __table_args__ = (
        UniqueConstraint("event_id", "code", name="uq_checkin_code"),
        UniqueConstraint("event_id", "user_id", name="uq_checkin_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("event.id", name="fk_checkin_event_id"), nullable=False
        )
    )
    code: str
    name: str | None = None  # as on the office's list
    issued_at: datetime = Field(default_factory=utcnow)
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    checked_in_at: datetime | None = None


class Application(SQLModel, table=True):
    """One filling-in of a form by a user: an eligibility application (a re-run is a new
    version), or an attendee's survey response to an event (``event_id`` set; one per
    attendee and event)."""

    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_one_response_per_event"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    programme_id: str
    programme_version: int
    version: int = 1
    status: ApplicationStatus = Field(
        default=ApplicationStatus.IN_PROGRESS, sa_type=Stored(ApplicationStatus)
    )
    verdict: Verdict | None = Field(default=None, sa_type=Stored(Verdict))
    # Derived values (ratios, totals) as judged at submission, kept with the verdict.
    figures: Any = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None


class Answer(SQLModel, table=True):
    """Every answer ever given; a changed answer is superseded, never overwritten."""

    __table_args__ = (Index("ix_answer_current", "application_id", "superseded_at"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    question_id: str
    value: Any = Field(sa_column=Column(JSON, nullable=False))
    raw_text: str | None = None
    answered_at: datetime = Field(default_factory=utcnow)
    superseded_at: datetime | None = None


class Flag(SQLModel, table=True):
    """A rule that held when the application was submitted, with the figures it saw."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    rule_id: str
    severity: Severity = Field(sa_type=Stored(Severity))
    clause: str
    message_key: str
    # {name: [display, value]}: the figures the rule saw, and how to show each one.
    values: Any = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class Flow(StrEnum):
    """What a conversation is in the middle of: the values of ``Conversation.flow``."""

    INTERVIEW = "interview"  # the eligibility assessment
    DETAILS = "details"  # the draft application's details
    SURVEY = "survey"  # a training event's satisfaction survey
    EVENT_SETUP = "event_setup"  # an admin setting up a training event
    BROADCAST = "broadcast"  # an admin composing a broadcast
    CONFIRM_DELETE = "confirm_delete"  # /delete, asking "are you sure?"
    EMAIL = "email"  # /email, waiting for the address
    CHECK_IN = "check_in"  # a survey waiting for the attendee's check-in code


class Conversation(SQLModel, table=True):
    """Where each user is in the chat, so a restart continues at the same step."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    flow: Flow | None = Field(default=None, sa_type=Stored(Flow))  # None: between flows
    application_id: int | None = None
    question_id: str | None = None
    pending: Any = Field(default=None, sa_column=Column(JSON))
    updated_at: datetime = Field(default_factory=utcnow)


class OutboxEntry(SQLModel, table=True):
    """An event the core has handled, by the key its transport recognises a redelivery
    by, with the replies it got: the one outbox of every channel (handlers/kernel/outbox.py).

    Written in the event's own transaction, with the state it changed: an event cut short
    leaves no row and is handled when it comes again; one that comes again after its
    commit is recognised and not handled twice.

    A Telegram update's row is remembered for a day (Telegram sends again within
    minutes); its ``replies`` are struck off as they are sent, so a process killed in
    between leaves exactly those not sent yet for the update sent again. Not by order:
    update ids are random after a quiet week and start afresh with a new token.

    A web visitor's stream is ``in_turn``: its numbers are the steps of their page, one
    after another, and its single row is the last step handled, its replies what the page
    shows (files included) until the next step replaces it.
    """

    __tablename__ = "outbox"

    stream: str = Field(primary_key=True)  # "telegram:<bot id>", "web:<visitor>"
    number: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    in_turn: bool = False
    # Whose: their data goes with them (/delete).
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    handled_at: datetime = Field(default_factory=utcnow, index=True)
    replies: Any = Field(default=None, sa_column=Column(JSON))  # None: none left to send


class GroupNotice(SQLModel, table=True):
    """A group or channel told that the bot works in private chats only, and when: it is
    told once in a while, not on every message."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    told_at: datetime = Field(default_factory=utcnow)


class Draft(SQLModel, table=True):
    """A generated draft application: which answers, which template, which language."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    version: int  # per application; a new one whenever the answers or template changed
    locale: str
    template_version: str
    fingerprint: str  # of the answers, flags and template it was made from
    filename: str
    created_at: datetime = Field(default_factory=utcnow)


class Admin(SQLModel, table=True):
    """An admin added in the chat by another admin (besides ADMIN_IDS of the settings)."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    added_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    added_at: datetime = Field(default_factory=utcnow)


class Broadcast(SQLModel, table=True):
    """A message to many users: a job worked through in the background, one
    ``BroadcastRecipient`` row each, so a restart resumes where it stopped."""

    id: int | None = Field(default=None, primary_key=True)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))  # None: terminal
    created_at: datetime = Field(default_factory=utcnow)
    audience: str  # "all", "eligible", "flag:<rule id>", "event:<id>", "language:<locale>", …
    text: str  # Telegram HTML; the caption when there is a photo or file
    media_kind: MediaKind | None = Field(default=None, sa_type=Stored(MediaKind))
    media_file_id: str | None = None  # Telegram's id once it holds the file
    media_filename: str | None = None
    # A file given in the terminal, uploaded with the first message; its id is used after.
    media_content: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    total: int = 0
    status: JobStatus = Field(default=JobStatus.RUNNING, sa_type=Stored(JobStatus))
    locale: str  # of the admin's status message
    status_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    status_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    # What the status message last said.
    shown_status: JobStatus | None = Field(default=None, sa_type=Stored(JobStatus))
    # The delivery runner working on it, and until when its claim holds unless renewed.
    runner: str | None = None
    lease_until: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class BroadcastRecipient(SQLModel, table=True):
    """One recipient of a broadcast on one route (Telegram, e-mail): pending → sending (in
    flight) → sent | failed | blocked. On the web it is the visitor's inbox: ``inbox``
    until a page shows it, then sent (``sent_at``: when shown), kept until dismissed."""

    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id", "channel", name="uq_broadcast_recipient"),
        Index("ix_broadcast_recipient_queue", "broadcast_id", "state", "id"),
        Index("ix_broadcast_recipient_user_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("broadcast.id", name="fk_broadcast_recipient_broadcast_id"),
            nullable=False,
        )
    )
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    channel: Channel = Field(
        default=Channel.TELEGRAM,
        sa_column=Column(Stored(Channel), nullable=False, server_default=Channel.TELEGRAM.value),
    )
    address: str | None = None  # the e-mail address, as it was when the job was queued
    state: RecipientState = Field(default=RecipientState.PENDING, sa_type=Stored(RecipientState))
    attempts: int = 0  # failed sends so far (a 429 is not a failure)
    next_attempt_at: datetime | None = None  # backoff after a failure
    error: str | None = None
    sent_at: datetime | None = None
    dismissed_at: datetime | None = None  # the web visitor took it out of their inbox


class AppSecret(SQLModel, table=True):
    """Secrets the app makes itself on first start (the web cookie key), shared by every
    process on the database."""

    name: str = Field(primary_key=True)
    value: str


class WebHandoff(SQLModel, table=True):
    """A one-time link that moves a web conversation to another device (a phone, a
    colleague's computer): it expires, and it works once."""

    token: str = Field(primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: datetime
    used_at: datetime | None = None


class Officer(SQLModel, table=True):
    """A programme officer who uses the office pages in a browser (bot/office.py).

    Officers are their own list, not rows of ``Admin``: they have no Telegram account (an
    admin's id is a Telegram user id), and the pages know them by name. A Telegram admin
    who also wants the pages is added here too. Removing an officer ends their sessions.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    added_by: str  # "terminal", or the Telegram admin id who added them in the chat
    created_at: datetime = Field(default_factory=utcnow)
    last_signin_at: datetime | None = None
    locale: str | None = None  # chosen on the pages; else the browser's language


class OfficerLink(SQLModel, table=True):
    """A one-time sign-in link: kept as a hash, so reading the database signs nobody in."""

    token_hash: str = Field(primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    expires_at: datetime
    used_at: datetime | None = None


class OfficerSession(SQLModel, table=True):
    """A browser an officer signed in on, until it expires or they sign out."""

    token_hash: str = Field(primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class OfficeAudit(SQLModel, table=True):
    """Who changed what on the office pages, and when (the name is kept: an officer may be
    removed, their actions stay)."""

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int | None = None
    officer_name: str
    action: str  # signin | signout | event_create | event_close | event_open | …
    target: str = ""
    at: datetime = Field(default_factory=utcnow, index=True)
