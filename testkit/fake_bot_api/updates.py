"""Updates on their way to the bot: the queue, getUpdates long polling, the webhook posts,
and what Telegram does with an update not confirmed (redelivers it, or lets it expire)."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time

import aiohttp

from .chats import Chats
from .records import Json
from .spec import ApiError, bad_request
from .users import FakeUser

_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
    "to delete the webhook first"
)


class Updates(Chats):
    """The queue of updates the bot takes, by getUpdates or from the webhook's posts."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[Json] = []
        # The id of the next update. Telegram counts up, but picks it at random after a
        # week without updates, and a new bot token starts afresh: tests may set it.
        self.next_update_id = 1
        self.updates: list[Json] = []  # every update queued, in order (see redeliver)
        self._allowed_updates: list[str] | None = None
        self._updates_changed = asyncio.Event()
        self._poll_generation = 0
        self._webhook: Json | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_last_error: tuple[int, str] | None = None
        self._closing = False
        self._handlers.update(
            {
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
            }
        )

    def push_update(self, payload: Json) -> Json:
        """Queue a raw update (``{"message": {...}}`` etc.); update_id is assigned."""
        update = {"update_id": self.next_update_id, **payload}
        self.next_update_id += 1
        self.updates.append(update)
        self._pending.append(update)
        self._notify_updates()
        return update

    def redeliver(self, update: Json) -> None:
        """Queue an update again, as Telegram does with one it has not seen confirmed
        (the bot crashed before confirming it, or its webhook did not answer 2xx)."""
        self._pending.append(copy.deepcopy(update))
        self._notify_updates()

    def expire_pending(self) -> None:
        """Time passes: Telegram keeps an unconfirmed update for 24 hours only."""
        self._pending.clear()

    @property
    def pending_updates(self) -> list[Json]:
        """Updates the bot has not confirmed yet (via offset or webhook 2xx)."""
        return list(self._pending)

    async def wait_updates_consumed(self, timeout: float = 5.0) -> None:
        """Wait until the bot confirmed every queued update.

        Confirmation means fetched (a later getUpdates offset), not handled.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._pending:
            if loop.time() >= deadline:
                raise AssertionError(
                    f"{len(self._pending)} update(s) still unconfirmed after {timeout}s"
                )
            await asyncio.sleep(0.01)

    def _push_member_update(self, user: FakeUser, *, old: str, new: str) -> None:
        bot = self.bot_user_json()
        self.push_update(
            {
                "my_chat_member": {
                    "chat": user.chat_json(),
                    "from": user.user_json(),
                    "date": int(time.time()),
                    "old_chat_member": _member(old, bot),
                    "new_chat_member": _member(new, bot),
                }
            }
        )

    async def _get_updates(self, params: Json) -> list[Json]:
        if self._webhook is not None:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        # A newer poll supersedes an older one still waiting, as in the real API.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()

        offset = params.get("offset")
        if isinstance(offset, int) and offset:
            self._confirm(offset)
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) and limit else 100
        timeout = params.get("timeout")
        timeout = max(timeout, 0) if isinstance(timeout, (int, float)) else 0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._select_updates(limit, self._allowed_updates)
            if batch or self._closing:
                return copy.deepcopy(batch)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            changed = self._updates_changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return []
            if self._poll_generation != generation:
                raise ApiError(409, _CONFLICT_POLL)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        else:
            # A negative offset keeps only the last -offset updates.
            self._pending = self._pending[offset:]

    def _select_updates(self, limit: int, allowed: list[str] | None) -> list[Json]:
        wanted = set(allowed) if allowed else None
        selected: list[Json] = []
        kept: list[Json] = []
        for update in self._pending:
            kind = next((k for k in update if k != "update_id"), "")
            if (wanted is not None and kind not in wanted) or (
                wanted is None and kind in _OPT_IN_UPDATES
            ):
                continue  # updates the bot did not subscribe to are never delivered
            kept.append(update)
            if len(selected) < limit:
                selected.append(update)
        self._pending = kept
        return selected

    def _notify_updates(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    async def _set_webhook(self, params: Json) -> bool:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params)
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        local = re.match(r"^http://(127\.0\.0\.1|localhost)(:\d+)?/", url + "/")
        if url.startswith("http://") and not local:
            # Plain HTTP is allowed only for local test receivers.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret not in (None, "") and not (
            isinstance(secret, str) and _SECRET_TOKEN_RE.fullmatch(secret)
        ):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        allowed = params.get("allowed_updates")
        self._webhook = {
            "url": url,
            "secret_token": secret or None,
            "max_connections": params.get("max_connections") or 40,
            "allowed_updates": [str(k) for k in allowed] if isinstance(allowed, list) else None,
        }
        if isinstance(allowed, list):
            self._allowed_updates = [str(k) for k in allowed]
        self._webhook_last_error = None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        self._notify_updates()
        return True

    async def _delete_webhook(self, params: Json) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        return True

    async def _get_webhook_info(self, params: Json) -> Json:
        info: Json = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
            if self._webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        if self._webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _deliver_webhooks(self) -> None:
        """POST pending updates to the webhook as Telegram does: up to max_connections at
        once, one at a time and in order per chat; a 2xx confirms one."""
        in_flight: dict[int, asyncio.Task[None]] = {}  # update_id → its delivery
        busy_chats: set[int | None] = set()
        async with aiohttp.ClientSession() as session:
            try:
                while (webhook := self._webhook) is not None and not self._closing:
                    changed = self._updates_changed
                    waiting = self._select_updates(len(self._pending), self._allowed_updates)
                    for update in waiting:
                        if len(in_flight) >= webhook["max_connections"]:
                            break
                        chat = _chat_of(update)
                        if update["update_id"] in in_flight or chat in busy_chats:
                            busy_chats.add(chat)  # nothing later of this chat overtakes it
                            continue
                        busy_chats.add(chat)
                        in_flight[update["update_id"]] = asyncio.create_task(
                            self._post_update(session, webhook, update)
                        )
                    done = [uid for uid, task in in_flight.items() if task.done()]
                    for uid in done:
                        in_flight.pop(uid).result()
                    # After the finished ones are gone: a chat whose post just failed is
                    # free again, or its retry would wait for some other update to come.
                    busy_chats = {_chat_of(u) for u in waiting if u["update_id"] in in_flight}
                    if not done:
                        await changed.wait()
            finally:
                for task in in_flight.values():
                    task.cancel()
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    async def _post_update(
        self, session: aiohttp.ClientSession, webhook: Json, update: Json
    ) -> None:
        headers: dict[str, str] = {}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        try:
            try:
                async with session.post(
                    webhook["url"],
                    json=update,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    body = await response.read()
                    if not 200 <= response.status < 300:
                        raise _WebhookFailure(
                            f"Wrong response from the webhook: {response.status} {response.reason}"
                        )
            except (aiohttp.ClientError, TimeoutError, _WebhookFailure) as error:
                message = (
                    str(error)
                    if isinstance(error, _WebhookFailure)
                    else f"Connection failed: {type(error).__name__}"
                )
                self._webhook_last_error = (int(time.time()), message)
                await asyncio.sleep(0.2)  # then it is posted again
                return
            self._pending = [u for u in self._pending if u is not update]
            await self._run_webhook_reply(body)
        finally:
            self._notify_updates()  # a connection is free, or the chat's next may go

    async def _run_webhook_reply(self, body: bytes) -> None:
        # A webhook may answer with a method call; Telegram executes it.
        try:
            reply = json.loads(body) if body else None
        except ValueError:
            return
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            params = {k: v for k, v in reply.items() if k != "method"}
            await self._dispatch(reply["method"], params, {}, content_type="webhook-reply")


def _chat_of(update: Json) -> int | None:
    """The chat an update belongs to (Telegram delivers one chat's updates in order)."""
    for kind in ("message", "edited_message", "callback_query"):
        body = update.get(kind)
        if isinstance(body, dict):
            message = body.get("message", body) if kind == "callback_query" else body
            chat = message.get("chat") if isinstance(message, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


class _WebhookFailure(Exception):
    pass


def _member(status: str, user: Json) -> Json:
    member: Json = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    return member
