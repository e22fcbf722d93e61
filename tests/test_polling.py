"""Long polling confirms an update (a higher getUpdates offset) only once it is handled:
a bot killed while handling gets the batch again (bench/kill_anywhere.py kills it)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.polling import poll_until_stopped


async def test_the_offset_moves_past_a_batch_only_once_it_is_handled() -> None:
    batches: list[list[tuple[int, Any]]] = [[(5, "a"), (6, "b")], [(7, "c")]]
    handled: list[str] = []
    asked: list[tuple[int | None, list[str]]] = []  # each getUpdates: offset, handled by then
    third = asyncio.Event()

    async def fetch(offset: int | None, wait: int) -> list[tuple[int, Any]]:
        asked.append((offset, list(handled)))
        if batches:
            return batches.pop(0)
        if wait == 0:  # stopping: the batch last handled is confirmed
            return []
        third.set()
        await asyncio.Event().wait()  # a long poll with nothing new
        return []

    async def handle(update: str) -> None:
        await asyncio.sleep(0)  # handling takes turns with everything else
        handled.append(update)
        if update == "a":
            raise RuntimeError("one update failing does not stop the others")

    polling = asyncio.create_task(poll_until_stopped(fetch, handle, handle_signals=False))
    await asyncio.wait_for(third.wait(), 5)
    polling.cancel()
    await asyncio.gather(polling, return_exceptions=True)
    assert asked == [(None, []), (7, ["a", "b"]), (8, ["a", "b", "c"])]
