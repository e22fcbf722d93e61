"""Broadcast delivery: works through broadcast jobs in the background while the bot keeps
answering everyone else. A runtime service, not a handler: one per bot process with a
sender; platform-neutral, as every message goes through ``context.sender``.

How a job is worked through, in waves of a few recipients:

1. wait until the rate limiter would let the next message go (never claim during a 429 pause);
2. in one transaction: renew this runner's lease on the job and mark the wave's pending rows
   ``sending`` (claimed) — committed before anything is sent;
3. send each message at its slot of the global rate (evenly spaced, no bursts), skipping a
   chat that had a message less than a second ago (it goes back to pending, due a second
   later);
4. in one transaction: renew the lease and record every outcome — ``sent``; ``blocked`` (403,
   chat not found: the user is marked unreachable for later broadcasts); back to ``pending``
   after a 429 (everyone waits ``retry_after``; the same message goes again, not counted as a
   failure) or after another error (due after a backoff, ``failed`` with the reason after
   ``MAX_ATTEMPTS``).

Delivery guarantee. A row is claimed (committed) before its message is sent and recorded
after, so after a crash every row is either still pending (never sent: sent after the
restart), recorded (never sent again), or ``sending``. A ``sending`` row is the one window
nothing can close — Telegram has no idempotency key, so whether a message whose HTTP request
was under way at the crash arrived cannot be known. Those rows (at most one wave: one row at
the default rate) are resolved at-most-once: marked failed "interrupted", never sent twice.
Everything else is exactly once. A runner holds a job by a lease renewed in every write and
checked (compare-and-set) in the claim and the record, so two bot processes never work on the
same job, and a runner that lost its lease records nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.delivery.pacing import PER_CHAT_SECONDS, ChatSpacing, RateLimiter, wave_size
from bot.delivery.status import Run, StatusMessages
from handlers.admin import broadcast_text
from handlers.kernel.context import Context
from handlers.kernel.types import RateLimited, RecipientGone, Sender, Sent
from models import broadcast_jobs
from models.tables import Broadcast, Channel, utcnow

if TYPE_CHECKING:
    from bot.delivery.mail import Mailer

# The logger keeps its name from before bot/ had folders: operators' log filters know it.
log = logging.getLogger("bot.delivery")

LEASE = timedelta(seconds=60)
POLL_SECONDS = 2.0  # looking for jobs queued by another process (the terminal)
PROGRESS_SECONDS = 3.0  # at most one progress edit this often
MAX_ATTEMPTS = 5  # sends that failed with an error other than 429 / 403
BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0)  # after the first, second, … failure
STOP_SECONDS = 10.0  # a clean stop lets the wave under way finish, this long at most
ERROR_LENGTH = 300


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


class Delivery:
    """One per serving process. Sends on Telegram once a Telegram transport has connected
    (``context.sender``), by e-mail with a ``mailer``; a web visitor's copy is in their
    inbox from the start, so a web-only job is finished at once."""

    def __init__(
        self,
        context: Context,
        *,
        mailer: Mailer | None = None,
        progress_seconds: float = PROGRESS_SECONDS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.context = context
        self.mailer = mailer
        self.mail_limiter = RateLimiter(context.email_rate)
        self.progress_seconds = progress_seconds
        self.poll_seconds = poll_seconds
        # host:pid:random — a job held by a dead process on this host is taken at once.
        self.runner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.limiter = RateLimiter(context.broadcast_rate)
        self.spacing = ChatSpacing(PER_CHAT_SECONDS)
        self.wave = wave_size(context.broadcast_rate)
        self.statuses = StatusMessages(context, self.limiter, self.spacing)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def sender(self) -> Sender:
        sender = self.context.sender
        assert sender is not None, "a Telegram job is taken only with a Telegram sender"
        return sender

    @property
    def channels(self) -> frozenset[Channel]:
        """The routes this runner sends on (the web inbox needs no sending)."""
        on = {Channel.WEB}
        if self.context.sender is not None:
            on.add(Channel.TELEGRAM)
        if self.mailer is not None:
            on.add(Channel.EMAIL)
        return frozenset(on)

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="broadcast-delivery")

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Let the wave under way finish and be recorded, then end."""
        self._stopping = True
        self.context.jobs_changed.set()
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            log.warning("broadcast delivery did not stop within %ss; cancelled", timeout)
        except Exception:
            log.exception("broadcast delivery ended with an error")
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def run(self) -> None:
        """Until stopped: refresh status messages, take the next job and deliver it."""
        while not self._stopping:
            try:
                await self.statuses.show_unshown()
                job = await self._take()
                if job is not None:
                    await self._work(job)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # a database or network hiccup must not end delivery for good
                log.exception("broadcast delivery failed; retrying")
            await self._idle(self.poll_seconds)

    async def _idle(self, seconds: float) -> None:
        """Sleep, unless a job is queued, paused, resumed or cancelled (or we stop)."""
        changed = self.context.jobs_changed
        try:
            await asyncio.wait_for(changed.wait(), max(0.0, seconds))
        except TimeoutError:
            return
        changed.clear()

    def _dead(self, holder: str) -> bool:
        """Whether the runner ``holder`` is known to be gone: on this host, and either this
        very process under an earlier runner, or a process that no longer exists."""
        host, _, rest = holder.partition(":")
        pid_text = rest.partition(":")[0]
        if host != socket.gethostname() or not pid_text.isdigit():
            return False  # another host: wait for its lease to run out
        pid = int(pid_text)
        if pid == os.getpid():
            return holder != self.runner
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # exists, not ours to signal
            return False
        return False

    async def _take(self) -> Broadcast | None:
        async with self.context.sessions() as session:
            job = await broadcast_jobs.take_job(
                session, self.runner, LEASE, self._dead, self.channels
            )
            if job is None:
                return None
            assert job.id is not None
            interrupted = await broadcast_jobs.resolve_in_flight(
                session, job.id, broadcast_text.INTERRUPTED
            )
            await session.commit()
        if interrupted:
            log.warning("broadcast %s: %s message(s) interrupted by a restart", job.id, interrupted)
        log.info("broadcast %s: delivering (runner %s)", job.id, self.runner)
        return job

    # -- one job ----------------------------------------------------------------------

    async def _work(self, job: Broadcast) -> None:
        assert job.id is not None
        job_id = job.id
        run = Run()
        if job.status_message_id is None:
            await self.statuses.show(job, run)
        last_progress = time.monotonic()
        while not self._stopping:
            await self.limiter.ready()  # no claim while a 429 pause runs
            # Sessions are short and never span a send or a sleep: on SQLite the process
            # takes turns on the database, and the bot answers users meanwhile.
            async with self.context.sessions() as session:
                state = await broadcast_jobs.job_state(session, job_id)
                if state is None or state[0] != broadcast_jobs.RUNNING:
                    break
                if state[1] != self.runner:
                    log.warning("broadcast %s: taken over by %s", job_id, state[1])
                    return
                size = 1 if job.media_content and not job.media_file_id else self.wave
                due = await broadcast_jobs.due_recipients(session, job_id, size)
                finished = renewed = False
                next_due = None
                if not due:
                    finished = await broadcast_jobs.finish(session, job_id, self.runner)
                    if not finished:
                        next_due = await broadcast_jobs.next_due_at(session, job_id)
                        renewed = await broadcast_jobs.renew(session, job_id, self.runner, LEASE)
                else:
                    renewed = await broadcast_jobs.renew(session, job_id, self.runner, LEASE)
                    claimed = (
                        await broadcast_jobs.claim(session, job_id, [d.id for d in due])
                        if renewed
                        else 0
                    )
                await session.commit()
            if finished:
                break
            if not renewed:
                log.warning("broadcast %s: lease lost", job_id)
                return
            if not due:  # the rest wait for a retry: sleep until the first is due
                wait = (next_due - utcnow()).total_seconds() if next_due else self.poll_seconds
                await self._idle(min(wait, self.progress_seconds))
                continue
            if claimed != len(due):  # only the lease holder claims: never expected
                log.error(
                    "broadcast %s: claimed %s of %s rows; stopping", job_id, claimed, len(due)
                )
                return
            if not await self._deliver(job, due, run):
                return
            if (
                time.monotonic() - last_progress >= self.progress_seconds
                and await self.statuses.show(job, run)
            ):
                last_progress = time.monotonic()
        await self._release(job, run)

    async def _deliver(self, job: Broadcast, due: list[broadcast_jobs.Due], run: Run) -> bool:
        """Send a claimed wave and record its outcomes; False: the lease was lost."""
        assert job.id is not None
        job_id = job.id
        pauses = self.limiter.pauses
        results = await asyncio.gather(*(self._send(job, d, pauses) for d in due))
        outcomes = [outcome for outcome, _ in results]
        file_id = next((sent.file_id for _, sent in results if sent and sent.file_id), None)
        async with self.context.sessions() as session:
            if not await broadcast_jobs.renew(session, job_id, self.runner, LEASE):
                # Another runner took the job and has marked these rows interrupted.
                log.warning("broadcast %s: lease lost; outcomes dropped", job_id)
                return False
            await broadcast_jobs.record(session, outcomes)
            if file_id and job.media_content and not job.media_file_id:
                await broadcast_jobs.media_uploaded(session, job_id, file_id)
                job.media_file_id, job.media_content = file_id, None  # the rest go by id
            await session.commit()
        run.sent += sum(1 for o in outcomes if o.state == broadcast_jobs.SENT)
        return True

    async def _release(self, job: Broadcast, run: Run) -> None:
        """Paused, cancelled, done, or we stop: whoever resumes it may take it at once."""
        assert job.id is not None
        async with self.context.sessions() as session:
            await broadcast_jobs.release(session, job.id, self.runner)
            await session.commit()
        async with self.context.sessions() as session:
            job = await broadcast_jobs.get_broadcast(session, job.id) or job
        if job.status != broadcast_jobs.RUNNING:
            await self.statuses.show(job, run)

    async def _send(
        self, job: Broadcast, due: broadcast_jobs.Due, pauses: int
    ) -> tuple[broadcast_jobs.Outcome, Sent | None]:
        if due.channel == Channel.EMAIL:
            return await self._mail(job, due), None
        later = self.spacing.wait_needed(due.chat_id)
        if later > 0:  # this chat had a message less than a second ago
            retry_at = utcnow() + timedelta(seconds=later)
            return broadcast_jobs.Outcome(
                due, broadcast_jobs.PENDING, None, due.attempts, retry_at
            ), None
        if not await self.limiter.acquire(pauses):  # a 429 meanwhile: not sent, goes again
            return broadcast_jobs.Outcome(due, broadcast_jobs.PENDING, None, due.attempts), None
        self.spacing.mark(due.chat_id)
        try:
            sent = await self.sender.send(due.chat_id, broadcast_text.message_of(job))
        except RateLimited as e:
            self.limiter.pause(e.retry_after)
            retry_at = utcnow() + timedelta(seconds=e.retry_after)
            return broadcast_jobs.Outcome(
                due, broadcast_jobs.PENDING, _reason(e), due.attempts, retry_at
            ), None
        except RecipientGone as e:
            return broadcast_jobs.Outcome(
                due, broadcast_jobs.BLOCKED, _reason(e), due.attempts + 1
            ), None
        except Exception as e:
            attempts = due.attempts + 1
            log.info(
                "broadcast %s to chat %s: attempt %s failed: %s", job.id, due.chat_id, attempts, e
            )
            if attempts >= MAX_ATTEMPTS:
                return broadcast_jobs.Outcome(
                    due, broadcast_jobs.FAILED, _reason(e), attempts
                ), None
            retry_at = utcnow() + timedelta(seconds=BACKOFF_SECONDS[attempts - 1])
            return broadcast_jobs.Outcome(
                due, broadcast_jobs.PENDING, _reason(e), attempts, retry_at
            ), None
        return broadcast_jobs.Outcome(due, broadcast_jobs.SENT, None, due.attempts), sent

    async def _mail(self, job: Broadcast, due: broadcast_jobs.Due) -> broadcast_jobs.Outcome:
        """One e-mail at its slot of SMTP_RATE: a refusal for good (5xx: no such mailbox)
        marks the address failed; anything else is tried again after a backoff."""
        assert self.mailer is not None and due.address is not None
        await self.mail_limiter.acquire(self.mail_limiter.pauses)
        try:
            await self.mailer.send(due.address, due.user_id, job)
        except RecipientGone as e:
            return broadcast_jobs.Outcome(due, broadcast_jobs.BLOCKED, _reason(e), due.attempts + 1)
        except Exception as e:
            attempts = due.attempts + 1
            log.info("broadcast %s by e-mail: attempt %s failed: %s", job.id, attempts, e)
            if attempts >= MAX_ATTEMPTS:
                return broadcast_jobs.Outcome(due, broadcast_jobs.FAILED, _reason(e), attempts)
            retry_at = utcnow() + timedelta(seconds=BACKOFF_SECONDS[attempts - 1])
            return broadcast_jobs.Outcome(
                due, broadcast_jobs.PENDING, _reason(e), attempts, retry_at
            )
        return broadcast_jobs.Outcome(due, broadcast_jobs.SENT, None, due.attempts)
