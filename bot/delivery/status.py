"""The admin's status message of a broadcast job: sent when the job starts, edited with
its progress (at most once a second in that chat, never before the broadcast's own sends)
and with the summary once it is paused, cancelled or done."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from bot.delivery.pacing import ChatSpacing, RateLimiter
from handlers.admin import broadcast_text
from handlers.kernel.context import Context
from handlers.kernel.types import RateLimited, Reply, Sender
from locales import translator
from models import broadcast_jobs
from models.tables import Broadcast

# The logger keeps its name from before bot/ had folders: operators' log filters know it.
log = logging.getLogger("bot.delivery")


@dataclass
class Run:
    """This runner's time on one job, for the rate and ETA of the progress message."""

    started: float = field(default_factory=time.monotonic)
    sent: int = 0

    def rate(self) -> float | None:
        elapsed = time.monotonic() - self.started
        return self.sent / elapsed if self.sent and elapsed > 0 else None


class StatusMessages:
    """Shares the runner's rate limiter and chat spacing: a status edit is one more
    message to Telegram, paced with the broadcast's."""

    def __init__(self, context: Context, limiter: RateLimiter, spacing: ChatSpacing) -> None:
        self.context = context
        self.limiter = limiter
        self.spacing = spacing

    @property
    def sender(self) -> Sender:
        sender = self.context.sender
        assert sender is not None, "a Telegram job is taken only with a Telegram sender"
        return sender

    async def _status(self, job: Broadcast, run: Run | None) -> Reply:
        assert job.id is not None
        async with self.context.sessions() as session:
            counts = (await broadcast_jobs.state_counts(session, [job.id]))[job.id]
            reasons = (
                await broadcast_jobs.failure_reasons(session, job.id, broadcast_text.REASONS_SHOWN)
                if job.status != broadcast_jobs.RUNNING
                else []
            )
        rate = run.rate() if run is not None and job.status == broadcast_jobs.RUNNING else None
        t = translator(job.locale)
        return broadcast_text.status_reply(t, job, counts, rate=rate, reasons=reasons)

    async def show(self, job: Broadcast, run: Run | None) -> bool:
        """Send the status message, or edit it (never more than once a second in its chat).
        False: a progress edit skipped, to be tried again soon."""
        if job.status_chat_id is None:
            return True
        assert job.id is not None
        chat = job.status_chat_id
        if job.status == broadcast_jobs.RUNNING and self.spacing.wait_needed(chat) > 0:
            return False  # progress can wait; the broadcast must not
        reply = await self._status(job, run)
        for _ in range(3):  # a 429 on the final summary: wait and try again
            wait = self.spacing.wait_needed(chat)
            if wait > 0:
                await asyncio.sleep(wait)
            await self.limiter.acquire(self.limiter.pauses)
            self.spacing.mark(chat)
            try:
                if job.status_message_id is None:
                    sent = await self.sender.send(chat, reply)
                    async with self.context.sessions() as session:
                        await broadcast_jobs.status_message_sent(
                            session, job.id, sent.message_id, job.status
                        )
                        await session.commit()
                    job.status_message_id = sent.message_id
                else:
                    await self.sender.edit(chat, job.status_message_id, reply)
                    if job.status != broadcast_jobs.RUNNING:
                        async with self.context.sessions() as session:
                            await broadcast_jobs.status_shown(session, job.id, job.status)
                            await session.commit()
                return True
            except RateLimited as e:
                self.limiter.pause(e.retry_after)
                if job.status == broadcast_jobs.RUNNING:
                    return False  # the next progress edit will do
                await self.limiter.ready()
            except asyncio.CancelledError:
                raise
            except Exception:  # the admin blocked the bot, deleted the message, …
                log.warning("broadcast %s: status message not updated", job.id, exc_info=True)
                if job.status != broadcast_jobs.RUNNING:
                    async with self.context.sessions() as session:
                        await broadcast_jobs.status_shown(session, job.id, job.status)
                        await session.commit()
                return True
        return False

    async def show_unshown(self) -> None:
        """Status messages of jobs paused, cancelled or finished while no runner was on them."""
        async with self.context.sessions() as session:
            jobs = await broadcast_jobs.unshown(session)
        for job in jobs:
            await self.show(job, None)
