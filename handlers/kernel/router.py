"""The core's one entry point for every transport: ``Router.handle`` (or ``answer``).

An event waits for its user's turn (serial.py, beside this file), is dispatched from the
registry (dispatch.py) with its user made at first contact (first_contact.py), and its new
state, its key and its replies are committed together (outbox.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from handlers.kernel import first_contact, groups, registry
from handlers.kernel.commands import Buttons, Command, Press
from handlers.kernel.context import Context, Turn
from handlers.kernel.dispatch import Dispatcher, Flow
from handlers.kernel.outbox import Outbox
from handlers.kernel.serial import Turns
from handlers.kernel.types import Event, Key, Reply
from locales import guess_locale, translator

log = logging.getLogger("handlers.router")  # the name operators' log filters know

Send = Callable[[list[Reply]], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """What the core made of an event."""

    replies: list[Reply] = field(default_factory=list)
    # Its key was handled before (a redelivery, a reload): ``replies`` are those it left
    # unsent, if any, and nothing of this handling was kept.
    repeated: bool = False
    # The user erased their data (/delete): nothing of them stays, the transport neither.
    gone: bool = False


class Router:
    def __init__(
        self,
        context: Context,
        commands: Sequence[Command] = registry.COMMANDS,
        buttons: Sequence[tuple[Buttons, Press]] = registry.BUTTONS,
        flows: Sequence[Flow] = registry.FLOWS,
    ) -> None:
        self.context = context
        self.dispatcher = Dispatcher(commands, buttons, flows)
        self.commands = self.dispatcher.commands
        self.outbox = Outbox(context.sessions, context.bot_id)
        self.turns = Turns()

    async def handle(self, event: Event, send: Send | None = None) -> list[Reply]:
        """The replies to ``event``. ``send``, given by a transport that sends them itself,
        sends them while the user's turn is still held: all replies to one event reach
        the chat before any of the next one's — after a restart, those sent again to an
        old update before the answer to a new one."""
        return (await self.answer(event, send)).replies

    async def answer(self, event: Event, send: Send | None = None) -> Outcome:
        async with self.turns.held(event):
            outcome = await self._answer_or_apologise(event)
            if send is not None:
                await send(outcome.replies)
            return outcome

    async def settle(self) -> None:
        """Wait for the replies being marked sent (at a stop, before the engine goes)."""
        await self.outbox.settle()

    async def _answer_or_apologise(self, event: Event) -> Outcome:
        try:
            return await self._answer(event)
        except Exception:
            # Nothing of this event was committed, or an effect after its commit
            # failed (the erasure /delete confirmed): say so rather than go silent.
            log.exception("failed to handle %s", event)
            if event.chat_type != groups.PRIVATE:
                return Outcome()  # a group hears nothing but where the bot works
            locale = guess_locale(event.language_code, self.context.default_locale)
            replies = [Reply(translator(locale)("error.internal"))]
            key = self.outbox.key(event)
            if key is not None and key.in_turn:  # a page shows what its step stored
                await self._record_alone(key, event.user_id, replies)
            return Outcome(replies)

    async def _answer(self, event: Event) -> Outcome:
        key = self.outbox.key(event)
        async with self.context.sessions() as session:
            if event.chat_type != groups.PRIVATE:  # nothing of the bot in groups, ever
                turn: Turn | None = None
                replies = await groups.refuse(self.context, session, event)
            else:
                turn = await first_contact.begin(self.context, session, event, self.commands)
                replies = await self.dispatcher.route(turn)
                await first_contact.end(turn)
            owner = event.user_id if turn is not None else None
            # State and replies are stored together, before any reply is sent.
            if key is not None and not await self.outbox.record(session, key, owner, replies):
                await session.rollback()
                return Outcome(await self.outbox.again(session, key), repeated=True)
            await session.commit()
        if turn is None:
            return Outcome(replies)
        await turn.run_effects()
        return Outcome(replies, gone=turn.gone)

    async def _record_alone(self, key: Key, user_id: int, replies: list[Reply]) -> None:
        try:
            async with self.context.sessions() as session:
                if await self.outbox.record(session, key, user_id, replies):
                    await session.commit()
        except Exception:
            log.exception("could not record the apology for %s", key)
