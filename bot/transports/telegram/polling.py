"""Long polling that confirms an update to Telegram only once it is handled.

Telegram forgets an update when the next getUpdates asks for a higher offset. The
frameworks' own polling loops ask for the next batch while the last one is still being
handled, so a bot killed at that moment (SIGKILL, a lost machine) has lost the user's
answer for good: nobody replies, and the user waits. Here a batch is handled (different
users' updates at once, one user's one after another, in order) before the offset moves
past it; a crash means the batch comes again, and the router recognises what it already
stored. The webhook receiver (bot/transports/telegram/webhook.py) already answers
Telegram only once the update is handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from bot.app import until_stopped
from bot.transports.telegram import incoming as telegram_messages

# The logger keeps its name from before bot/ had folders: operators' log filters know it.
log = logging.getLogger("bot.polling")

POLL_SECONDS = 10  # how long one getUpdates waits for an update
RETRY_SECONDS = (1, 2, 5, 10, 30)
# Stopping: at most this long to confirm the batch last handled (otherwise it is sent
# again at the next start, and recognised as handled).
CONFIRM_SECONDS = 5  # after a failed getUpdates, then the last one again

# getUpdates with this offset (None: from the oldest unconfirmed), waiting this many
# seconds → [(update id, update)]
Fetch = Callable[[int | None, int], Coroutine[Any, Any, Sequence[tuple[int, Any]]]]
Handle = Callable[[Any], Awaitable[None]]


def fetcher(get_updates: Callable[..., Awaitable[Sequence[Any]]], **timeout: float) -> Fetch:
    """getUpdates of either framework (``timeout``: its own name for the HTTP timeout,
    longer than the poll)."""

    async def fetch(offset: int | None, wait: int) -> list[tuple[int, Any]]:
        updates = await get_updates(
            offset=offset,
            timeout=wait,
            allowed_updates=telegram_messages.ALLOWED_UPDATES,
            **timeout,
        )
        return [(update.update_id, update) for update in updates]

    return fetch


async def poll_until_stopped(fetch: Fetch, handle: Handle, handle_signals: bool) -> None:
    """Poll until SIGINT/SIGTERM (or cancellation); a batch being handled is finished
    first, one being fetched is dropped (it stays unconfirmed, so it comes again)."""
    stopped = asyncio.create_task(until_stopped(handle_signals))
    fetching: asyncio.Task[Sequence[tuple[int, Any]]] | None = None
    offset: int | None = None
    asked: int | None = None  # the offset Telegram last heard
    failures = 0
    try:
        while not stopped.done():
            fetching = asyncio.create_task(fetch(offset, POLL_SECONDS))
            asked = offset
            await asyncio.wait({fetching, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if stopped.done():
                fetching.cancel()
                await asyncio.gather(fetching, return_exceptions=True)
                break
            try:
                batch = fetching.result()
            except Exception as e:  # Telegram or the network failed: wait, then ask again
                pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                log.warning("getUpdates failed (%s); again in %s s", type(e).__name__, pause)
                failures += 1
                await asyncio.wait({stopped}, timeout=pause)
                continue
            failures = 0
            if not batch:
                continue
            try:
                await _finish(_handle_all(handle, [update for _, update in batch]))
            finally:  # cancelled too: the batch was finished all the same
                offset = max(update_id for update_id, _ in batch) + 1
    finally:
        for task in (stopped, fetching):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (stopped, fetching) if t), return_exceptions=True)
        if offset != asked:  # the last batch is handled: say so before going
            with contextlib.suppress(Exception):
                await asyncio.wait_for(fetch(offset, 0), CONFIRM_SECONDS)


async def _finish(handling: Coroutine[Any, Any, None]) -> None:
    """Run to the end even if cancelled meanwhile (then the cancellation follows).
    Cancellation (tests, an app embedding the bot) stops polling as a signal does: the
    batch is finished, so replies sent are marked sent and not sent again."""
    task = asyncio.create_task(handling)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


async def _handle_all(handle: Handle, updates: list[Any]) -> None:
    """Each sender's updates one after another, in order, and the senders' at once. In
    order, replies included: the replies sent again to an update that comes back after a
    restart reach the chat before the answer to the user's next one — which a press's
    answerCallbackQuery, awaited before handling, could otherwise let overtake them."""
    queues: dict[object, list[Any]] = {}
    for i, update in enumerate(updates):
        queues.setdefault(_sender(update) or ("update", i), []).append(update)
    await asyncio.gather(*(_in_order(handle, queue) for queue in queues.values()))


async def _in_order(handle: Handle, updates: list[Any]) -> None:
    for update in updates:
        try:
            await handle(update)
        except Exception:  # the router answers its own errors; not this
            log.exception("an update could not be handled")


def _sender(update: Any) -> int | None:
    """Who sent the update: both libraries name its fields as the Bot API does."""
    for kind in ("message", "callback_query"):
        item = getattr(update, kind, None)
        if item is not None and item.from_user is not None:
            return int(item.from_user.id)
    return None
