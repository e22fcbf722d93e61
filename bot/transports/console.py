"""The console transport: the same conversation in a terminal, no token needed.

Buttons are shown numbered; typing the number presses the button. Where the question
also takes typed input (an amount, a name), its buttons are numbered ``#1``, ``#2`` so
that typing ``1`` still answers "1".
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from handlers.kernel.render import plain
from handlers.kernel.types import Button, Event, Reply
from models.tables import SYSTEM_ACTOR, Channel

# The person at the terminal is the system actor (no Telegram user has id 0). They run
# the bot on their own database, so they are its admin (bot/cli/__init__.py adds them).
PROMPT = "> "

Handle = Callable[[Event], Awaitable[list[Reply]]]


class Console:
    def __init__(self, handle: Handle, output_dir: Path, out: TextIO = sys.stdout) -> None:
        self.handle = handle
        self.output_dir = output_dir
        self.out = out
        self.buttons: list[Button] = []
        self.prefix = ""

    def _print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _show(self, reply: Reply) -> None:
        if reply.text:
            self._print(plain(reply.text))
        for file in (reply.photo, reply.document):
            if file is not None:
                self.output_dir.mkdir(parents=True, exist_ok=True)
                path = (self.output_dir / file.filename).resolve()
                path.write_bytes(file.content)
                self._print(f"📄 {path}")
        # Buttons are numbered on from the previous message of the same answer, so every
        # button still on screen can be pressed.
        for row in reply.buttons:
            cells = []
            for button in row:
                self.buttons.append(button)
                cells.append(f"[{self.prefix}{len(self.buttons)}] {button.text}")
            self._print("  ".join(cells))
        self._print()

    def _pressed(self, choice: str) -> Button | None:
        digits = choice[1:] if choice.startswith("#") else ("" if self.prefix else choice)
        if digits.isdigit() and 1 <= int(digits) <= len(self.buttons):
            return self.buttons[int(digits) - 1]
        return None

    def _event(self, line: str) -> Event:
        button = self._pressed(line.strip())
        if button is not None:
            return Event(SYSTEM_ACTOR, SYSTEM_ACTOR, callback_data=button.data)
        return Event.message(SYSTEM_ACTOR, SYSTEM_ACTOR, line)

    async def send(self, event: Event) -> None:
        replies = await self.handle(dataclasses.replace(event, channel=Channel.CONSOLE))
        self.buttons = []
        self.prefix = "#" if any(r.accepts_text for r in replies) else ""
        for reply in replies:
            self._show(reply)

    async def run(self, stdin: TextIO = sys.stdin) -> None:
        echo = not stdin.isatty()  # piped input: show what was "typed" after the prompt
        await self.send(Event.message(SYSTEM_ACTOR, SYSTEM_ACTOR, "/start"))
        while True:
            self.out.write(PROMPT)  # the bot waits for input
            self.out.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                self._print()  # end the prompt's line
                return
            line = line.rstrip("\n")
            if echo:
                self._print(line)
            if line.strip():
                await self.send(self._event(line))
