"""The pace of broadcast delivery: a global rate without bursts, paused by a 429, and
about one message a second per chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

PER_CHAT_SECONDS = 1.0  # Telegram: about one message per second per chat
WAVE_SECONDS = 0.05  # a wave is about this much sending at the configured rate
MAX_WAVE = 100


def wave_size(rate: float) -> int:
    return max(1, min(MAX_WAVE, round(rate * WAVE_SECONDS)))


class RateLimiter:
    """At most ``rate`` sends a second, evenly spaced (no bursts); a 429 pauses all sends."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep  # with ``clock``, a test's own time: no timing in tests
        self._next = 0.0
        self._paused_until = 0.0
        self.pauses = 0  # how many 429s so far: a send reserved before one must not go

    def pause(self, seconds: float) -> None:
        self.pauses += 1
        self._paused_until = max(self._paused_until, self.clock() + seconds)
        self._next = max(self._next, self._paused_until)

    async def ready(self) -> None:
        """Until the next slot is free (without taking it)."""
        delay = max(self._next, self._paused_until) - self.clock()
        if delay > 0:
            await self.sleep(delay)

    async def acquire(self, pauses_seen: int) -> bool:
        """Wait for a slot; False when a 429 came after ``pauses_seen`` (then do not send).

        A slot missed by less than half an interval (the database work between waves) is
        still taken, so that work does not slow the rate down; one missed by more (the
        limiter was idle) is not made up for: no burst."""
        now = self.clock()
        slot = max(self._next, self._paused_until)
        if slot < now - self.interval / 2:
            slot = now
        self._next = slot + self.interval
        if slot > now:
            await self.sleep(slot - now)
        return self.pauses == pauses_seen


class ChatSpacing:
    """When each chat last got a message from this process."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._last: dict[int, float] = {}

    def wait_needed(self, chat_id: int) -> float:
        last = self._last.get(chat_id)
        return 0.0 if last is None else max(0.0, last + self.seconds - self.clock())

    def mark(self, chat_id: int) -> None:
        now = self.clock()
        if len(self._last) > 10_000:  # a broadcast touches each chat once: forget old ones
            self._last = {c: t for c, t in self._last.items() if t > now - self.seconds}
        self._last[chat_id] = now
