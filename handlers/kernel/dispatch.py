"""Which handler an event goes to, from the registry's tables: its commands, its button
families and the conversations that take typed text. Admin rights are checked here, once,
from what each declares; no feature is named."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from handlers.kernel import flows, menu
from handlers.kernel.commands import MENU, Buttons, Command, Press, split
from handlers.kernel.context import Turn
from handlers.kernel.types import Reply
from handlers.questionnaire.chat import flow_text, stale

OnText = Callable[[Turn], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Flow:
    """What a conversation (``Conversation.flow``) declares of itself: only admins may be
    in it (one who is no longer an admin leaves it), and what typed text does there when
    it is not a form's answer."""

    name: str
    admin: bool = False
    on_text: OnText | None = None


class Dispatcher:
    def __init__(
        self,
        commands: Sequence[Command],
        buttons: Sequence[tuple[Buttons, Press]],
        declared: Sequence[Flow] = (),
    ) -> None:
        self.commands = tuple(commands)
        self._commands = {c.name: c for c in commands}
        self._buttons = {b.prefix: (b, press) for b, press in buttons}
        self._flows = {f.name: f for f in declared}

    async def route(self, turn: Turn) -> list[Reply]:
        event = turn.event
        declared = self._flows.get(turn.conversation.flow or "")
        if declared is not None and declared.admin and not await turn.is_admin():
            turn.conversation.flow = None  # an admin no more: that conversation is over
            declared = None
        if event.callback_data is not None:
            return await self._button(turn, event.callback_data)
        if event.command is not None:
            return await self._command(turn, event.command)
        if turn.first_contact:
            return menu.start(turn, first_contact=True)
        if declared is not None and declared.on_text is not None:
            return await declared.on_text(turn)
        form = flows.of(turn)
        if form is not None:
            return await flow_text(turn, form, event.text or "")
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
        if found is None:
            return stale(turn)  # of no family (any more)
        buttons, press = found
        if buttons.admin and not await turn.is_admin():
            return stale(turn)  # a forged admin button
        return await press(turn, value)
