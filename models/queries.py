"""The reads and writes the handlers need, one function each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Answer, Application, Conversation, Draft, Flag, User, utcnow


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def add_user(
    session: AsyncSession, user_id: int, chat_id: int, locale: str, display_name: str | None
) -> User:
    user = User(id=user_id, chat_id=chat_id, locale=locale, display_name=display_name)
    session.add(user)
    session.add(Conversation(user_id=user_id))
    await session.flush()
    return user


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
            Application.status == "submitted",
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


async def current_answers(session: AsyncSession, application_id: int) -> dict[str, Answer]:
    query = select(Answer).where(
        Answer.application_id == application_id, col(Answer.superseded_at).is_(None)
    )
    return {a.question_id: a for a in (await session.exec(query)).all()}


async def record_answer(
    session: AsyncSession,
    application_id: int,
    question_id: str,
    value: Any,
    raw_text: str | None,
    previous: Answer | None,
) -> Answer:
    """Store a new answer; the one it replaces is kept, marked superseded."""
    now = utcnow()
    if previous is not None:
        previous.superseded_at = now
        session.add(previous)
    answer = Answer(
        application_id=application_id,
        question_id=question_id,
        value=value,
        raw_text=raw_text,
        answered_at=now,
    )
    session.add(answer)
    return answer


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


async def delete_user(session: AsyncSession, user_id: int) -> None:
    """Erase a user and everything recorded about them."""
    ids = select(Application.id).where(Application.user_id == user_id)
    await session.exec(delete(Answer).where(col(Answer.application_id).in_(ids)))
    await session.exec(delete(Flag).where(col(Flag.application_id).in_(ids)))
    await session.exec(delete(Draft).where(col(Draft.application_id).in_(ids)))
    await session.exec(delete(Application).where(col(Application.user_id) == user_id))
    await session.exec(delete(Conversation).where(col(Conversation.user_id) == user_id))
    await session.exec(delete(User).where(col(User.id) == user_id))


async def count_users(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(User))).one()
