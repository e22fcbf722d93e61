"""The one outbox of every channel.

Each transport hands the core an event with a key that recognises it sent again
(``handlers.kernel.types.Key``: Telegram's update id, a web page's step). The core records the
key, the new state and the replies in the event's one transaction; the transport sends
what was recorded and strikes each reply off once it is sent. So a crash loses nothing
and sends nothing twice: an event cut short left no row and is handled when it comes
again; one that comes again after its commit is not handled twice, and gets exactly the
replies not struck off yet — the one in flight at the crash again, at worst.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.kernel import stored_replies
from handlers.kernel.types import Event, Key, Reply
from models import outbox
from models.tables import utcnow

log = logging.getLogger("handlers.outbox")  # the name operators' log filters know

# Telegram sends an update again until it is confirmed, within minutes, not days: an id
# handled longer ago than this is forgotten (ids are reused at random after a quiet week).
REMEMBER = timedelta(days=1)
# Forgetting is one DELETE: done with the first event and then at most this often.
FORGET_EVERY = timedelta(hours=1)


def telegram_stream(bot_id: int) -> str:
    """Update ids are unique per bot."""
    return f"telegram:{bot_id}"


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], bot_id: int = 0) -> None:
        self.sessions = sessions
        self.bot_id = bot_id
        self._forgotten_at: datetime | None = None
        # Stored replies older than this process were left by one that died before
        # sending them (a restart); younger ones are being sent by a live process.
        self._started = utcnow()
        # Keys whose replies are stored and this process is sending: cleared once all are
        # sent, and the same key again meanwhile gets nothing, not a second copy.
        self._sending: set[Key] = set()
        # Sent, and to be marked so: by one statement for all that are done meanwhile.
        self._done: set[Key] = set()
        self._marking: asyncio.Task[None] | None = None

    def key(self, event: Event) -> Key | None:
        """The event's key; a Telegram update's is its id in this bot's stream."""
        if event.key is not None or event.update_id is None:
            return event.key
        return Key(telegram_stream(self.bot_id), event.update_id)

    async def record(
        self, session: AsyncSession, key: Key, user_id: int | None, replies: list[Reply]
    ) -> bool:
        """In the event's transaction, before its commit: record the key with the replies
        (stored before any is sent). False: the key was handled before, and the caller
        rolls back what this handling did. Recorded by the write itself, not looked up
        first: a key comes again only after a crash, a retry or a reload."""
        now = utcnow()
        if self._forgotten_at is None or now - self._forgotten_at >= FORGET_EVERY:
            await outbox.forget(session, now - REMEMBER)
            self._forgotten_at = now
        stored = stored_replies.encode(replies) or None
        new = await outbox.record(
            session,
            key.stream,
            key.number,
            key.in_turn,
            user_id=user_id,
            now=now,
            replies=stored,
            forget_before=now - REMEMBER,
        )
        if new and stored and not key.in_turn:
            self._sending.add(key)
        return new

    async def again(self, session: AsyncSession, key: Key) -> list[Reply]:
        """A key handled before: the replies it got that never went out (the process died
        before sending them), exactly; nothing when they did, or when a live process may
        be sending them now (handled since this one started: Telegram retried a slow
        webhook post; several processes share the database). A web page shows its step's
        replies from the outbox itself: nothing to send."""
        if key.in_turn or key in self._sending:
            return []
        earlier = await outbox.entry(session, key.stream, key.number)
        if earlier is None or not earlier.replies or earlier.handled_at >= self._started:
            return []
        self._sending.add(key)
        return stored_replies.decode(earlier.replies)

    async def sent(self, event: Event, rest: list[Reply]) -> None:
        """The transport sent one of the replies to ``event``; ``rest``, not empty, come
        after it and stay stored, that one no longer. After the send, not before: a crash
        between the two sends that reply again after the restart (the user sees the same
        message twice), where the other order would lose it — and a lost question leaves
        the user waiting, or takes the answer they type again for the next question's,
        unseen. After the last reply, ``replied``: its mark is not waited for, as it only
        narrows the window in which a crash repeats that reply."""
        key = self.key(event)
        if key is None or key not in self._sending:  # nothing stored (a repeat, or none)
            return
        async with self.sessions() as session:
            await outbox.keep_unsent(session, key.stream, key.number, stored_replies.encode(rest))
            await session.commit()

    def replied(self, event: Event) -> asyncio.Task[None] | None:
        """The transport is done with the replies to ``event`` (or gave up on them): what
        is still stored is cleared in the background — with those of every other event
        done meanwhile, in one statement — as a redelivery will not come: the webhook's
        answer and the next poll tell Telegram the update is done. The task clearing them
        is returned, to wait for."""
        key = self.key(event)
        if key is not None and key in self._sending:
            self._done.add(key)
            if self._marking is None or self._marking.done():
                self._marking = asyncio.create_task(self._mark_sent())
        return self._marking

    async def settle(self) -> None:
        """Wait for the replies being marked sent (at a stop, before the engine goes)."""
        if self._marking is not None:
            await asyncio.gather(self._marking, return_exceptions=True)

    async def _mark_sent(self) -> None:
        while self._done:  # those done while a batch is written: the next batch
            done, self._done = self._done, set()
            try:
                async with self.sessions() as session:
                    for stream in {key.stream for key in done}:
                        numbers = (key.number for key in done if key.stream == stream)
                        await outbox.all_sent(session, stream, numbers)
                    await session.commit()
            except Exception:  # kept a day, then forgotten; sent again only if redelivered
                log.warning("could not mark the replies to %d events sent", len(done))
            finally:
                self._sending -= done
