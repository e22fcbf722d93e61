"""Statuses are enums in the code and the very strings they always were in the database:
rows written before read as members, and no migration was needed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import select

from forms.definition import Form
from handlers.kernel.router import Router
from models.tables import (
    Application,
    ApplicationStatus,
    Broadcast,
    BroadcastRecipient,
    Conversation,
    Flag,
    Flow,
    JobStatus,
    MediaKind,
    RecipientState,
    Severity,
    Verdict,
)
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, run_interview

ADMIN = 999


async def test_a_submission_is_stored_as_the_same_strings(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await run_interview(chat, form, dict(ELIGIBLE_ZH, rd_leading="否"))
    async with router.context.sessions() as session:
        raw = (await session.exec(text("SELECT status, verdict FROM application"))).one()
        assert tuple(raw) == ("submitted", "not_eligible")
        severities = (await session.exec(text("SELECT severity FROM flag"))).scalars().all()
        assert severities and set(severities) <= {"disqualify", "warning", "review"}
        application = (await session.exec(select(Application))).one()
        assert application.status is ApplicationStatus.SUBMITTED
        assert application.verdict is Verdict.NOT_ELIGIBLE
        assert all(isinstance(f.severity, Severity) for f in (await session.exec(select(Flag))))


async def test_rows_written_as_strings_read_as_members(router: Router) -> None:
    """As a row of an earlier version, or another process, wrote them."""
    await Chat(router, ADMIN).send("/start")
    async with router.context.sessions() as session:
        await session.exec(text("UPDATE conversation SET flow = 'broadcast'"))
        await session.exec(
            text(
                "INSERT INTO broadcast"
                " (id, created_at, audience, text, media_kind, total, status, locale) VALUES"
                " (7, '2024-10-08 00:00:00', 'all', 'x', 'photo', 1, 'paused', 'zh_CN')"
            )
        )
        await session.exec(
            text(
                "INSERT INTO broadcastrecipient (broadcast_id, user_id, chat_id, state, attempts)"
                " VALUES (7, 999, 999, 'blocked', 1)"
            )
        )
        await session.commit()
    async with router.context.sessions() as session:
        conversation = await session.get(Conversation, ADMIN)
        assert conversation is not None and conversation.flow is Flow.BROADCAST
        job = await session.get(Broadcast, 7)
        assert job is not None and job.status is JobStatus.PAUSED
        assert job.media_kind is MediaKind.PHOTO
        recipient = (await session.exec(select(BroadcastRecipient))).one()
        assert recipient.state is RecipientState.BLOCKED


async def test_a_status_of_no_member_is_never_written(router: Router) -> None:
    async with router.context.sessions() as session:
        job = Broadcast(text="x", locale="zh_CN", audience="all", status="sending")  # type: ignore[arg-type]
        session.add(job)
        with pytest.raises(StatementError):
            await session.flush()
