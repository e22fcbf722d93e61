"""Queueing a broadcast, the one use case behind the chat and the terminal (and the web
page for officers to come): checked once, inside it; a refusal is a value, not a text."""

from __future__ import annotations

from handlers.admin.broadcast_queue import Author, Message, Reason, Refused, queue_broadcast
from handlers.kernel.router import Router
from models import broadcast_jobs
from tests.broadcast_helpers import PROGRAMME, ROUTES, populate

OFFICER = Author(None, "zh_CN")


async def test_a_broadcast_is_queued_or_refused_with_a_reason(router: Router) -> None:
    population = await populate(router.context.sessions)
    refusals = {
        ("all", Message("  ")): Reason.EMPTY,
        ("all", Message("<b>open")): Reason.BAD_HTML,
        ("all", Message("x" * 4097)): Reason.TOO_LONG,
        ("all", Message("x" * 1025, "photo", file_id="F")): Reason.TOO_LONG,
        ("all", Message("x", "sticker", file_id="F")): Reason.UNSUPPORTED,
        ("everyone", Message("x")): Reason.BAD_AUDIENCE,
        ("language:fr", Message("x")): Reason.BAD_AUDIENCE,
        ("event:999", Message("x")): Reason.NOBODY,
    }
    async with router.context.sessions() as session:
        for (audience, message), reason in refusals.items():
            refused = await queue_broadcast(session, PROGRAMME, OFFICER, audience, message, ROUTES)
            assert isinstance(refused, Refused) and refused.reason == reason, audience
        job = await queue_broadcast(
            session, PROGRAMME, OFFICER, "eligible", Message("<b>x</b>"), ROUTES
        )
        await session.commit()
    assert not isinstance(job, Refused)
    assert job.total == len(population.eligible) + len(population.points)
    async with router.context.sessions() as session:  # the refused left no job behind
        assert [j.id for j in await broadcast_jobs.recent_broadcasts(session, 10)] == [job.id]
