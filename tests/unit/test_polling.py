"""Long polling confirms an update (a higher getUpdates offset) only once it is handled:
a bot killed while handling gets the batch again (bench/kill_anywhere.py kills it)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from bot.transports.telegram.polling import poll_until_stopped


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


def _update(kind: str, user_id: int) -> Any:
    """An update as both libraries shape it: ``message`` or ``callback_query``, the other
    None, each with the Bot API's ``from_user``."""
    item = SimpleNamespace(from_user=SimpleNamespace(id=user_id))
    fields = {"message": None, "callback_query": None, kind: item}
    return SimpleNamespace(**fields)


async def test_one_users_updates_in_a_batch_are_handled_in_order_and_others_meanwhile() -> None:
    """A press answered again after a restart (its replies sent again) and the same user's
    next message in one batch: the message waits for the press, every reply included,
    so the chat shows them in order; another user's update is not held up."""
    press, typed, other = _update("callback_query", 1), _update("message", 1), _update("message", 2)
    names = {id(press): "press", id(typed): "typed", id(other): "other"}
    batches: list[list[tuple[int, Any]]] = [[(1, press), (2, typed), (3, other)]]
    steps: list[str] = []
    other_done, all_done = asyncio.Event(), asyncio.Event()

    async def fetch(offset: int | None, wait: int) -> list[tuple[int, Any]]:
        if batches:
            return batches.pop(0)
        all_done.set()
        if wait:
            await asyncio.Event().wait()
        return []

    async def handle(update: Any) -> None:
        name = names[id(update)]
        steps.append(f"{name} starts")
        if name == "press":  # slow: it ends only once the other user's update is handled
            await other_done.wait()
        if name == "other":
            other_done.set()
        steps.append(f"{name} ends")

    polling = asyncio.create_task(poll_until_stopped(fetch, handle, handle_signals=False))
    await asyncio.wait_for(all_done.wait(), 5)
    polling.cancel()
    await asyncio.gather(polling, return_exceptions=True)
    assert steps.index("press ends") < steps.index("typed starts")
    assert steps.index("other ends") < steps.index("press ends")
