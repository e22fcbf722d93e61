"""How a feature declares what it answers: its commands and its buttons.

A feature module declares each command (name, description key, admin or not, what runs)
and its buttons: one callback prefix, built and read here (in the spirit of aiogram's
``CallbackData``), paired with the function a press runs. ``handlers.kernel.registry`` lists
them; the router dispatches from that list and checks admin rights once, before anything
of an admin command or button runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.kernel.context import Turn
from handlers.kernel.types import Reply

Run = Callable[[Turn], Awaitable[list[Reply]]]
Press = Callable[[Turn, str], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    """``/name``; its arguments are ``turn.event.args``."""

    name: str
    description_key: str
    run: Run
    admin: bool = False


@dataclass(frozen=True)
class Buttons:
    """A feature's buttons: callback data ``prefix:part:part…`` (or the bare prefix). Its
    handler, paired with it in the registry, gets what follows ``prefix:``."""

    prefix: str
    admin: bool = False

    def data(self, *parts: str | int | None) -> str:
        """``render.button`` holds it to Telegram's 64 bytes. (``None``: SQLModel types
        the id of a stored row as optional.)"""
        return ":".join((self.prefix, *map(str, parts)))


def split(data: str) -> tuple[str, str]:
    """(prefix, the rest) of a button's callback data."""
    prefix, _, rest = data.partition(":")
    return prefix, rest


# Buttons that run a command ("menu:apply"), checked as the command itself is.
MENU = Buttons("menu")


# What a number in a button's data or a command's arguments may be: ASCII digits only
# (str.isdigit takes "²" and "٣", which int() then refuses), and within the column it
# names (an id no row can have must not reach the database: PostgreSQL refuses it).
MAX_ROW_ID = 2**31 - 1  # a table's own integer key
MAX_USER_ID = 2**63 - 1  # a user's id (Telegram's exceed 32 bits; a web visitor's is negative)


def as_row_id(text: str) -> int | None:
    """The id of a table row, or None when ``text`` cannot be one."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ROW_ID else None


def as_user_id(text: str) -> int | None:
    """A user's id, or None when ``text`` cannot be one."""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    number = int(text)
    return number if abs(number) <= MAX_USER_ID else None
