"""The reads and writes the handlers need, one function each."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Text, bindparam, cast, delete, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import attendance, outbox
from models.tables import (
    Admin,
    Answer,
    Application,
    ApplicationStatus,
    Broadcast,
    BroadcastRecipient,
    Channel,
    Conversation,
    Draft,
    Flag,
    TrainingEvent,
    User,
    WebHandoff,
    utcnow,
)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def add_user(
    session: AsyncSession,
    user_id: int,
    chat_id: int,
    locale: str,
    display_name: str | None,
    channel: Channel,
) -> User:
    user = User(
        id=user_id, chat_id=chat_id, channel=channel, locale=locale, display_name=display_name
    )
    session.add(user)
    session.add(Conversation(user_id=user_id))
    await session.flush()
    return user


# Admins added in the chat (/admins); those of ADMIN_IDS are the settings'.


async def is_stored_admin(session: AsyncSession, user_id: int) -> bool:
    return await session.get(Admin, user_id) is not None


async def stored_admins(session: AsyncSession) -> list[tuple[Admin, User | None]]:
    query = (
        select(Admin, User)
        .outerjoin(User, col(User.id) == col(Admin.user_id))
        .order_by(col(Admin.added_at))
    )
    return [(admin, user) for admin, user in (await session.exec(query)).all()]


async def add_admin(session: AsyncSession, user_id: int, added_by: int) -> bool:
    """False when they already were one."""
    if await session.get(Admin, user_id) is not None:
        return False
    session.add(Admin(user_id=user_id, added_by=added_by))
    await session.flush()
    return True


async def remove_admin(session: AsyncSession, user_id: int) -> bool:
    admin = await session.get(Admin, user_id)
    if admin is None:
        return False
    await session.delete(admin)
    await session.flush()
    return True


# Built once: the statements of every update (an expression costs more to build than to run).
_USER_AND_CONVERSATION = (
    select(User, Conversation, Application)
    .join(Conversation, col(Conversation.user_id) == col(User.id))
    .outerjoin(Application, col(Application.id) == col(Conversation.application_id))
    .where(col(User.id) == bindparam("user_id"))
    .with_for_update(of=Conversation)
)
# An application's answers are read and written on every answer given: as rows of the
# table on the session's connection, not ORM objects, which cost more to build and to
# flush than the statements. Nothing else writes answers through the ORM.
_ANSWER = Answer.__table__  # type: ignore[attr-defined]
_CURRENT_ANSWERS = sa_select(
    _ANSWER.c.id, _ANSWER.c.question_id, _ANSWER.c.value, _ANSWER.c.raw_text
).where(_ANSWER.c.application_id == bindparam("application_id"), _ANSWER.c.superseded_at.is_(None))
_SUPERSEDE = (
    update(_ANSWER)
    .where(_ANSWER.c.id == bindparam("answer"))
    .values(superseded_at=bindparam("now"))
)
_ADD_ANSWER = insert(_ANSWER).values(
    application_id=bindparam("application_id"),
    question_id=bindparam("question_id"),
    value=bindparam("value"),
    raw_text=bindparam("raw_text"),
    answered_at=bindparam("now"),
)


class StoredAnswer(NamedTuple):
    """An application's current answer to one question."""

    id: int
    question_id: str
    value: Any  # JSON, as forms.answers.encode wrote it
    raw_text: str | None  # what the user typed, if they typed it


async def user_and_conversation(
    session: AsyncSession, user_id: int
) -> tuple[User, Conversation, Application | None] | None:
    """The user, their conversation, locked for this transaction (PostgreSQL: another
    process's update of the same user waits), and the application it is on, in one
    statement; None when the user or the conversation is missing (a new user:
    ``add_user``; a conversation to create: ``conversation``). While the caller holds the
    application, ``session.get`` finds it without another query."""
    found = (await session.exec(_USER_AND_CONVERSATION, params={"user_id": user_id})).first()
    return None if found is None else (found[0], found[1], found[2])


async def conversation(session: AsyncSession, user_id: int) -> Conversation:
    found = await session.get(Conversation, user_id, with_for_update=True)
    if found is None:
        found = Conversation(user_id=user_id)
        session.add(found)
    return found


async def latest_application(
    session: AsyncSession, user_id: int, programme_id: str
) -> Application | None:
    query = (
        select(Application)
        .where(Application.user_id == user_id, Application.programme_id == programme_id)
        .order_by(col(Application.version).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def latest_submitted(
    session: AsyncSession, user_id: int, programme_id: str
) -> Application | None:
    query = (
        select(Application)
        .where(
            Application.user_id == user_id,
            Application.programme_id == programme_id,
            Application.status == ApplicationStatus.SUBMITTED,
        )
        .order_by(col(Application.version).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def add_application(
    session: AsyncSession, user_id: int, programme_id: str, programme_version: int, version: int
) -> Application:
    application = Application(
        user_id=user_id,
        programme_id=programme_id,
        programme_version=programme_version,
        version=version,
    )
    session.add(application)
    await session.flush()
    return application


async def current_answers(session: AsyncSession, application_id: int) -> dict[str, StoredAnswer]:
    connection = await session.connection()
    rows = await connection.execute(_CURRENT_ANSWERS, {"application_id": application_id})
    return {row.question_id: StoredAnswer(*row) for row in rows}


async def record_answer(
    session: AsyncSession,
    application_id: int,
    question_id: str,
    value: Any,
    raw_text: str | None,
    previous: StoredAnswer | None,
) -> None:
    """Store a new answer; the one it replaces is kept, marked superseded."""
    now = utcnow()
    connection = await session.connection()
    if previous is not None:
        await connection.execute(_SUPERSEDE, {"answer": previous.id, "now": now})
    params = {
        "application_id": application_id,
        "question_id": question_id,
        "value": value,
        "raw_text": raw_text,
        "now": now,
    }
    await connection.execute(_ADD_ANSWER, params)


async def replace_flags(session: AsyncSession, application_id: int, flags: list[Flag]) -> None:
    await session.exec(delete(Flag).where(col(Flag.application_id) == application_id))
    session.add_all(flags)


async def flags_of(session: AsyncSession, application_id: int) -> list[Flag]:
    query = select(Flag).where(Flag.application_id == application_id).order_by(col(Flag.id))
    return list((await session.exec(query)).all())


async def applications_of(session: AsyncSession, user_id: int) -> list[Application]:
    query = select(Application).where(Application.user_id == user_id).order_by(col(Application.id))
    return list((await session.exec(query)).all())


async def answer_history(session: AsyncSession, application_id: int) -> list[Answer]:
    query = select(Answer).where(Answer.application_id == application_id).order_by(col(Answer.id))
    return list((await session.exec(query)).all())


async def latest_draft(session: AsyncSession, application_id: int) -> Draft | None:
    query = (
        select(Draft)
        .where(Draft.application_id == application_id)
        .order_by(col(Draft.version).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


# A creator or adder who has erased their data (their rows stay: the office's events,
# admins and notices); 0 is never a Telegram user id.
ERASED_USER = 0


async def delete_user(
    session: AsyncSession, user_id: int, kept_survey_questions: frozenset[str] = frozenset()
) -> None:
    """Erase a user and everything recorded about them.

    Their submitted survey responses count in an event's satisfaction rate (clause K4),
    which must not change when an attendee leaves: those stay, under an anonymous id
    (minus the response's id: unique, and never a Telegram user id), with only the
    current answers to ``kept_survey_questions`` (the scores, never anything typed).
    """
    mine = col(Application.user_id) == user_id
    submitted = col(Application.status) == ApplicationStatus.SUBMITTED
    kept = mine & submitted & col(Application.event_id).is_not(None)
    kept_ids = select(Application.id).where(kept)
    await session.exec(
        delete(Answer).where(
            col(Answer.application_id).in_(kept_ids),
            ~col(Answer.question_id).in_(kept_survey_questions)
            | col(Answer.superseded_at).is_not(None),
        )
    )
    await session.exec(
        update(Answer).where(col(Answer.application_id).in_(kept_ids)).values(raw_text=None)
    )
    await attendance.forget_user(session, user_id)
    await session.exec(update(Application).where(kept).values(user_id=-col(Application.id)))
    ids = select(Application.id).where(mine)
    await session.exec(delete(Answer).where(col(Answer.application_id).in_(ids)))
    await session.exec(delete(Flag).where(col(Flag.application_id).in_(ids)))
    await session.exec(delete(Draft).where(col(Draft.application_id).in_(ids)))
    await session.exec(delete(Application).where(mine))
    await session.exec(delete(Conversation).where(col(Conversation.user_id) == user_id))
    # Whom a broadcast went to is personal data (the job keeps its total), so is being an admin.
    await session.exec(delete(BroadcastRecipient).where(col(BroadcastRecipient.user_id) == user_id))
    await session.exec(delete(Admin).where(col(Admin.user_id) == user_id))
    await session.exec(delete(WebHandoff).where(col(WebHandoff.user_id) == user_id))
    await outbox.forget_user(session, user_id)
    # What they did as an admin stays, no longer saying who did it.
    await session.exec(
        update(Admin).where(col(Admin.added_by) == user_id).values(added_by=ERASED_USER)
    )
    created = col(TrainingEvent.created_by) == user_id
    await session.exec(update(TrainingEvent).where(created).values(created_by=ERASED_USER))
    await session.exec(
        update(Broadcast)
        .where(col(Broadcast.created_by) == user_id)
        .values(created_by=None, status_chat_id=None, status_message_id=None)
    )
    await session.exec(delete(User).where(col(User.id) == user_id))


async def event_by_code(session: AsyncSession, code: str) -> TrainingEvent | None:
    query = select(TrainingEvent).where(TrainingEvent.code == code.strip().lower())
    return (await session.exec(query)).first()


async def events_with_counts(
    session: AsyncSession, limit: int | None = None, *, submitted_only: bool = True
) -> list[tuple[TrainingEvent, int]]:
    """Every event (or the newest ``limit``), newest first, with its number of submitted
    survey responses (or, not ``submitted_only``, of everyone who opened its survey: its
    attendees, for a broadcast)."""
    counted = select(Application.event_id, func.count().label("n")).where(
        col(Application.event_id).is_not(None)
    )
    if submitted_only:
        counted = counted.where(Application.status == ApplicationStatus.SUBMITTED)
    submitted = counted.group_by(col(Application.event_id)).subquery()
    query = (
        select(TrainingEvent, func.coalesce(submitted.c.n, 0))
        .outerjoin(submitted, col(TrainingEvent.id) == submitted.c.event_id)
        .order_by(col(TrainingEvent.event_date).desc(), col(TrainingEvent.id).desc())
        .limit(limit)
    )
    return [(event, int(count)) for event, count in (await session.exec(query)).all()]


async def response_of(session: AsyncSession, event_id: int, user_id: int) -> Application | None:
    query = select(Application).where(
        Application.event_id == event_id, Application.user_id == user_id
    )
    return (await session.exec(query)).first()


async def survey_responses(
    session: AsyncSession, event_id: int
) -> list[tuple[int, datetime | None, int]]:
    """(response id, submitted at, user id) of every submitted response of the event."""
    query = (
        select(Application.id, Application.submitted_at, Application.user_id)
        .where(Application.event_id == event_id, Application.status == ApplicationStatus.SUBMITTED)
        .order_by(col(Application.id))
    )
    return [(rid or 0, at, uid) for rid, at, uid in (await session.exec(query)).all()]


async def survey_answers(
    session: AsyncSession, event_id: int, question_id: str | None = None
) -> list[tuple[int, str, str]]:
    """(response id, question id, value as JSON text) of every current answer (or of one
    question's) of every submitted response: one query, plain tuples, values left as JSON
    text for the caller to decode once per distinct value (a report reads tens of
    thousands of answers, most of them one of five)."""
    query = (
        sa_select(
            col(Answer.application_id),
            col(Answer.question_id),
            # A cast in SQL, not a type_coerce: asyncpg decodes a JSON column itself, so
            # PostgreSQL would hand back the value (None for a skipped question) where
            # SQLite hands back the text; cast, both give the JSON text.
            cast(col(Answer.value), Text),
        )
        .join(Application, col(Answer.application_id) == col(Application.id))
        .where(
            col(Application.event_id) == event_id,
            col(Application.status) == ApplicationStatus.SUBMITTED,
            col(Answer.superseded_at).is_(None),
        )
    )
    if question_id is not None:
        query = query.where(col(Answer.question_id) == question_id)
    connection = await session.connection()  # a plain Core select: rows, not models
    result = await connection.execute(query)
    return [(row[0], row[1], row[2]) for row in result.all()]
