"""One event at a time per user: a double tap must not answer the same question twice,
and all replies to one event reach the chat before any of the next one's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakValueDictionary

from handlers.kernel import groups
from handlers.kernel.types import Event


def whose(event: Event) -> int:
    """Whose turn an event is: its user's, or in a group the group's (its notice is
    decided once, not per member)."""
    return event.user_id if event.chat_type == groups.PRIVATE else event.chat_id


class Turns:
    def __init__(self) -> None:
        # Weak values: a lock lives only while someone holds or awaits it.
        self._locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()

    @asynccontextmanager
    async def held(self, event: Event) -> AsyncIterator[None]:
        """The event's turn, once the events before it of the same user are done."""
        key = whose(event)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield
