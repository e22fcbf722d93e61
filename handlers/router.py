"""Where each event goes. The one entry point for every transport: ``Router.handle``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from weakref import WeakValueDictionary

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import broadcast, flows, groups, menu, registry, stored_replies
from handlers.command_menu import admin_menu, register_menus
from handlers.commands import MENU, Buttons, Command, Press, split
from handlers.context import Context, Turn
from handlers.questionnaire import flow_text, stale
from handlers.types import Event, Reply, Sender
from locales import guess_locale, translator
from models import queries, updates
from models.tables import utcnow

log = logging.getLogger(__name__)

Send = Callable[[list[Reply]], Awaitable[None]]


# Telegram sends an update again until it is confirmed, within minutes, not days: an id
# handled longer ago than this is forgotten (ids are reused at random after a quiet week).
REMEMBER_UPDATES = timedelta(days=1)
# Forgetting is one DELETE: done with the first update and then at most this often.
FORGET_EVERY = timedelta(hours=1)


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
        self._forgotten_at: datetime | None = None
        # Stored replies older than this process were left by one that died before
        # sending them (a restart); younger ones are being sent by a live process.
        self._started = utcnow()
        # (bot, update) whose replies are stored and this process is sending: cleared once
        # all are sent, and the same update again meanwhile gets nothing, not a 2nd copy.
        self._sending: set[tuple[int, int]] = set()
        # Sent, and to be marked so: by one statement for all that are done meanwhile.
        self._done: set[tuple[int, int]] = set()
        self._marking: asyncio.Task[None] | None = None

    async def connect(self, sender: Sender, bot_username: str | None, bot_id: int) -> None:
        """A transport, once connected, hands over what the handlers need of it, and the
        command menus are registered with the platform."""
        self.context.sender = sender
        self.context.bot_username = bot_username
        self.context.bot_id = bot_id
        await register_menus(self.context, self.commands)

    async def handle(self, event: Event, send: Send | None = None) -> list[Reply]:
        """The replies to ``event``. ``send``, given by a transport that sends them itself,
        sends them while the user's turn is still held: all replies to one update reach
        the chat before any of the next one's — after a restart, those sent again to an
        old update before the answer to a new one."""
        key = event.user_id if event.chat_type == groups.PRIVATE else event.chat_id
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            replies = await self._handle_or_apologise(event)
            if send is not None:
                await send(replies)
            return replies

    async def _handle_or_apologise(self, event: Event) -> list[Reply]:
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
        """The transport sent one of the replies to ``event``; ``rest``, not empty, come
        after it and stay stored, that one no longer. After the send, not before: a crash
        between the two sends that reply again after the restart (the user sees the same
        message twice), where the other order would lose it — and a lost question leaves
        the user waiting, or takes the answer they type again for the next question's,
        unseen. After the last reply, ``replied``: its mark is not waited for, as it only
        narrows the window in which a crash repeats that reply."""
        key = self._key(event)
        if key is None or key not in self._sending:  # nothing stored (a repeat, or none)
            return
        async with self.context.sessions() as session:
            await updates.keep_unsent(session, *key, stored_replies.encode(rest))
            await session.commit()

    def replied(self, event: Event) -> asyncio.Task[None] | None:
        """The transport is done with the replies to ``event`` (or gave up on them): what
        is still stored is cleared in the background — with those of every other update
        done meanwhile, in one statement — as a redelivery will not come: the webhook's
        answer and the next poll tell Telegram the update is done. The task clearing them
        is returned, to wait for."""
        key = self._key(event)
        if key is not None and key in self._sending:
            self._done.add(key)
            if self._marking is None or self._marking.done():
                self._marking = asyncio.create_task(self._mark_sent())
        return self._marking

    def _key(self, event: Event) -> tuple[int, int] | None:
        return None if event.update_id is None else (self.context.bot_id, event.update_id)

    async def settle(self) -> None:
        """Wait for the replies being marked sent (at a stop, before the engine goes)."""
        if self._marking is not None:
            await asyncio.gather(self._marking, return_exceptions=True)

    async def _mark_sent(self) -> None:
        while self._done:  # those done while a batch is written: the next batch
            done, self._done = self._done, set()
            try:
                async with self.context.sessions() as session:
                    for bot in {bot for bot, _ in done}:
                        await updates.all_sent(session, bot, (u for b, u in done if b == bot))
                    await session.commit()
            except Exception:  # kept a day, then forgotten; sent again only if redelivered
                log.warning("could not mark the replies to %d updates sent", len(done))
            finally:
                self._sending -= done

    async def _forget_old(self, session: AsyncSession) -> None:
        """Forget the updates handled longer ago than REMEMBER_UPDATES, now and then."""
        now = utcnow()
        if self._forgotten_at is None or now - self._forgotten_at >= FORGET_EVERY:
            await updates.forget_updates(session, now - REMEMBER_UPDATES)
            self._forgotten_at = now

    def _again(self, update_id: int | None, earlier: updates.Recorded) -> list[Reply]:
        """A redelivered update: the replies it was given and that never went out (the
        process died before sending them), exactly; nothing when they did, or when a live
        process may be sending them now (handled since this one started: Telegram retried
        a slow webhook post; several processes share the database)."""
        assert update_id is not None
        key = (self.context.bot_id, update_id)
        if not earlier.unsent or key in self._sending:
            return []
        if earlier.handled_at >= self._started:
            return []
        self._sending.add(key)
        return stored_replies.decode(earlier.unsent)

    async def _commit(
        self, session: AsyncSession, event: Event, replies: list[Reply]
    ) -> updates.Recorded | None:
        """Commit the update's state, recorded as handled, with the replies it gets (the
        outbox): stored before any is sent, struck off as they are (``sent``), sent again
        after a crash. Recorded by the INSERT of the commit, not looked up first: an
        update comes again only after a crash or a retry. If it came again, the INSERT
        fails, nothing of this handling is kept, and what was recorded the first time
        is returned."""
        if event.update_id is None:  # the console: no platform that sends anything twice
            await session.commit()
            return None
        bot = self.context.bot_id
        stored = stored_replies.encode(replies) or None
        try:
            await updates.record(session, bot, event.update_id, utcnow(), stored)
            await session.commit()
        except IntegrityError:
            await session.rollback()
            earlier = await updates.recorded(session, bot, event.update_id)
            if earlier is None:  # another constraint failed
                raise
            return earlier
        if stored:
            self._sending.add((bot, event.update_id))
        return None

    async def _handle(self, event: Event) -> list[Reply]:
        for _ in range(2):  # twice only when the id was another update's, long ago
            async with self.context.sessions() as session:
                if event.update_id is not None:
                    await self._forget_old(session)
                turn, replies = await self._work(session, event)
                # State and replies are stored before any reply is sent.
                earlier = await self._commit(session, event, replies)
            if earlier is None:
                if turn is not None:
                    await turn.run_effects()
                return replies
            if earlier.handled_at > utcnow() - REMEMBER_UPDATES:
                return self._again(event.update_id, earlier)
            self._forgotten_at = None  # its row goes with the next try's forgetting
        raise RuntimeError(f"update {event.update_id} recorded twice, long ago")

    async def _work(self, session: AsyncSession, event: Event) -> tuple[Turn | None, list[Reply]]:
        """What the update does to the state in ``session``, and its replies."""
        if event.chat_type != groups.PRIVATE:  # nothing of the bot in groups, ever
            return None, await groups.refuse(self.context, session, event)
        # ``_application``: held, so that the session keeps it for the handlers.
        found = await queries.user_and_conversation(session, event.user_id)
        user, conversation, _application = found or (None, None, None)
        if user is None:  # a new user, or rarely, one without a conversation
            user = await queries.get_user(session, event.user_id)
        first_contact = user is None
        if user is None:
            locale = guess_locale(event.language_code, self.context.default_locale)
            user = await queries.add_user(
                session, event.user_id, event.chat_id, locale, event.display_name
            )
        if conversation is None:
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
        # When the conversation last changed: an update that changes nothing in it (free
        # text outside any questionnaire) writes nothing to it.
        if session.is_modified(conversation):
            conversation.updated_at = utcnow()
        if first_contact and await turn.is_admin():
            # An admin added before they ever wrote to the bot: their chat exists now.
            menu_shown = partial(admin_menu, self.context, self.commands, event.user_id, True)
            turn.after_commit(menu_shown)
        return turn, replies

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
        return stale(turn)  # of no family (any more)
