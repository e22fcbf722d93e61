"""Where each event goes. The one entry point for every transport: ``Router.handle``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from weakref import WeakValueDictionary

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import broadcast, flows, groups, menu, registry, stored_replies
from handlers.command_menu import admin_menu, register_menus
from handlers.commands import MENU, Buttons, Command, Press, split
from handlers.context import Context, Turn
from handlers.questionnaire import flow_button, flow_text, stale
from handlers.types import Event, Reply, Sender
from locales import guess_locale, translator
from models import queries, updates
from models.tables import utcnow
from models.updates import Delivery

log = logging.getLogger(__name__)


# Telegram sends an update again until it is confirmed, within minutes, not days: an id
# handled longer ago than this is forgotten (ids are reused at random after a quiet week).
REMEMBER_UPDATES = timedelta(days=1)
# Forgetting is one DELETE: done with the first update and then every so many, not each.
FORGET_EVERY = 500


class Router:
    def __init__(
        self,
        context: Context,
        commands: Sequence[Command] = registry.COMMANDS,
        buttons: Sequence[tuple[Buttons, Press]] = registry.BUTTONS,
    ) -> None:
        self.context = context
        self.commands = tuple(commands)
        self._commands = {c.name: c for c in commands}
        self._buttons = {b.prefix: (b, press) for b, press in buttons}
        # One event at a time per user: a double tap must not answer the same question
        # twice. Weak values: a lock lives only while someone holds or awaits it.
        # In a group, one lock per group: its notice is decided once, not per member.
        self._locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()
        self._until_forget = 0
        # Stored replies older than this process were left by one that died before
        # sending them (a restart); younger ones are being sent by a live process.
        self._started = utcnow()
        # (bot, update) whose replies are stored and this process is sending: cleared by
        # ``replied``, and the same update again meanwhile gets nothing, not a 2nd copy.
        self._sending: set[tuple[int, int]] = set()
        self._marking: set[asyncio.Task[None]] = set()  # held: a task is not kept otherwise

    async def connect(self, sender: Sender, bot_username: str | None, bot_id: int) -> None:
        """A transport, once connected, hands over what the handlers need of it, and the
        command menus are registered with the platform."""
        self.context.sender = sender
        self.context.bot_username = bot_username
        self.context.bot_id = bot_id
        await register_menus(self.context, self.commands)

    async def handle(self, event: Event) -> list[Reply]:
        key = event.user_id if event.chat_type == groups.PRIVATE else event.chat_id
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            try:
                return await self._handle(event)
            except Exception:
                # Nothing of this event was committed, or an effect after its commit
                # failed (the erasure /delete confirmed): say so rather than go silent.
                log.exception("failed to handle %s", event)
                if event.chat_type != groups.PRIVATE:
                    return []  # a group hears nothing but where the bot works
                locale = guess_locale(event.language_code, self.context.default_locale)
                t = translator(locale)
                return [Reply(t("error.internal"))]

    async def sent(self, event: Event, rest: list[Reply]) -> None:
        """The transport sent one of the replies to ``event``; ``rest`` come after it and
        stay stored, that one no longer. After the send, not before: a crash between the
        two sends that reply again after the restart (the user sees the same message
        twice), where the other order would lose it — and a lost question leaves the user
        waiting, or takes the answer they type again for the next question's, unseen."""
        key = self._key(event)
        if key is None or key not in self._sending:  # nothing stored (a repeat, or none)
            return
        async with self.context.sessions() as session:
            await updates.keep_unsent(session, *key, stored_replies.encode(rest) or None)
            await session.commit()
        if not rest:
            self._sending.discard(key)

    def replied(self, event: Event) -> asyncio.Task[None] | None:
        """The transport is done with the replies to ``event`` (or gave up on them): what
        is still stored (edits last, a failed send) is cleared, in the background (the
        task, to wait for it), as a redelivery will not come: the webhook's answer and
        the next poll tell Telegram the update is done."""
        key = self._key(event)
        if key is None or key not in self._sending:
            return None
        task = asyncio.create_task(self._mark_sent(key))
        self._marking.add(task)
        task.add_done_callback(self._marking.discard)
        return task

    def _key(self, event: Event) -> tuple[int, int] | None:
        return None if event.update_id is None else (self.context.bot_id, event.update_id)

    async def settle(self) -> None:
        """Wait for the replies being marked sent (at a stop, before the engine goes)."""
        await asyncio.gather(*self._marking, return_exceptions=True)

    async def _mark_sent(self, key: tuple[int, int]) -> None:
        try:
            async with self.context.sessions() as session:
                await updates.keep_unsent(session, *key, None)
                await session.commit()
        except Exception:  # kept a day, then forgotten; sent again only if redelivered
            log.warning("could not mark the replies to update %s sent", key[1], exc_info=True)
        finally:
            self._sending.discard(key)

    async def _first_time(self, session: AsyncSession, update_id: int | None) -> Delivery:
        """Whether the update is new (Telegram may send one again); recorded in the
        update's own transaction, so one cut short by a crash is handled when it returns."""
        if update_id is None:  # the console: no platform that sends anything twice
            return Delivery(first=True)
        now = utcnow()
        if self._until_forget <= 0:
            await updates.forget_updates(session, now - REMEMBER_UPDATES)
            self._until_forget = FORGET_EVERY
        self._until_forget -= 1
        bot = self.context.bot_id
        return await updates.first_time(session, bot, update_id, now, now - REMEMBER_UPDATES)

    def _again(self, update_id: int | None, delivery: Delivery) -> list[Reply]:
        """A redelivered update: the replies it was given and that never went out (the
        process died before sending them), exactly; nothing when they did, or when a live
        process may be sending them now (handled since this one started: Telegram retried
        a slow webhook post; several processes share the database)."""
        assert update_id is not None
        key = (self.context.bot_id, update_id)
        if not delivery.unsent or key in self._sending:
            return []
        if delivery.handled_at is None or delivery.handled_at >= self._started:
            return []
        self._sending.add(key)
        return stored_replies.decode(delivery.unsent)

    async def _commit(
        self, session: AsyncSession, update_id: int | None, replies: list[Reply]
    ) -> None:
        """Commit the update's state with the replies it gets (the outbox): stored before
        any is sent, struck off as they are (``sent``), sent again after a crash."""
        if update_id is not None and replies:
            await updates.keep_replies(
                session, self.context.bot_id, update_id, stored_replies.encode(replies)
            )
        await session.commit()
        if update_id is not None and replies:
            self._sending.add((self.context.bot_id, update_id))

    async def _handle(self, event: Event) -> list[Reply]:
        async with self.context.sessions() as session:
            delivery = await self._first_time(session, event.update_id)
            if not delivery.first:
                return self._again(event.update_id, delivery)
            if event.chat_type != groups.PRIVATE:  # nothing of the bot in groups, ever
                replies = await groups.refuse(self.context, session, event)
                await self._commit(session, event.update_id, replies)
                return replies
            user = await queries.get_user(session, event.user_id)
            first_contact = user is None
            if user is None:
                locale = guess_locale(event.language_code, self.context.default_locale)
                user = await queries.add_user(
                    session, event.user_id, event.chat_id, locale, event.display_name
                )
            conversation = await queries.conversation(session, user.id)
            turn = Turn(
                self.context,
                event,
                session,
                user,
                conversation,
                translator(user.locale),
                first_contact=first_contact,
                commands=self.commands,
            )
            if user.unreachable_at is not None:  # they write to us: broadcasts reach them again
                user.unreachable_at = None
            replies = await self._route(turn)
            if first_contact or user.privacy_seen_at is None:
                user.privacy_seen_at = utcnow()
            conversation.updated_at = utcnow()
            session.add(conversation)
            if first_contact and await turn.is_admin():
                # An admin added before they ever wrote to the bot: their chat exists now.
                menu_shown = partial(admin_menu, self.context, self.commands, event.user_id, True)
                turn.after_commit(menu_shown)
            # State and replies are stored before any reply is sent.
            await self._commit(session, event.update_id, replies)
        await turn.run_effects()
        return replies

    async def _route(self, turn: Turn) -> list[Reply]:
        event = turn.event
        if turn.conversation.flow in registry.ADMIN_FLOWS and not await turn.is_admin():
            turn.conversation.flow = None  # an admin no more: that conversation is over
        if event.callback_data is not None:
            return await self._button(turn, event.callback_data)
        if event.command is not None:
            return await self._command(turn, event.command)
        if turn.first_contact:
            return menu.start(turn, first_contact=True)
        if turn.conversation.flow == broadcast.FLOW:
            return await broadcast.on_message(turn)
        flow = flows.of(turn)
        if flow is not None:
            return await flow_text(turn, flow, event.text or "")
        return [Reply(turn.t("hint.no_flow"), menu.menu_keyboard(turn))]

    async def _command(self, turn: Turn, name: str) -> list[Reply]:
        command = self._commands.get(name)
        if command is None or (command.admin and not await turn.is_admin()):
            return menu.unknown(turn)  # an admin command answers others as an unknown one
        return await command.run(turn)

    async def _button(self, turn: Turn, data: str) -> list[Reply]:
        prefix, value = split(data)
        if prefix == MENU.prefix:
            return await self._command(turn, value)
        found = self._buttons.get(prefix)
        if found is not None:
            buttons, press = found
            if buttons.admin and not await turn.is_admin():
                return stale(turn)  # a forged admin button
            return await press(turn, value)
        flow = flows.of(turn)
        if flow is None:
            return stale(turn)
        return await flow_button(turn, flow, data)
