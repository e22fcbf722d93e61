"""What a handler is handed: the runtime's settings and services, and the current turn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from forms.definition import Form
from handlers.kernel.types import Event, Sender
from locales import Translator
from models.queries import is_stored_admin
from models.tables import Channel, Conversation, User


class Listed(Protocol):
    """A command as /help and the command menus list it (``handlers.kernel.commands.Command``,
    which runs on a ``Turn``: so it is not named here, and the two modules do not import
    each other)."""

    @property
    def name(self) -> str: ...

    @property
    def description_key(self) -> str: ...

    @property
    def admin(self) -> bool: ...


# Something outside the reply that must happen only once the update's state is stored.
Effect = Callable[[], Awaitable[None]]


@dataclass
class Context:
    """Given by the runtime (bot/), so handlers never import it; complete when made: a
    Telegram transport asks Telegram who the bot is before the context is built."""

    sessions: async_sessionmaker[AsyncSession]
    form: Form
    admin_ids: frozenset[int] = frozenset()
    default_locale: str = "zh_CN"
    # Of the Telegram bot, when there is one (None in the console, a web-only process and
    # tests that need neither): its @username for deep links, its id (the update ids it
    # handled are remembered per bot), and the sender for traffic that is not a reply
    # (broadcasts, command menus).
    bot_username: str | None = None
    bot_id: int = 0
    # The web chat's public address (PUBLIC_URL), for the links attendees scan.
    public_url: str | None = None
    sender: Sender | None = None
    # Broadcasts: messages per second, and a signal that a job was queued, paused, resumed
    # or cancelled, so the delivery runner looks at once instead of at its next poll.
    broadcast_rate: float = 25.0
    # The routes this deployment delivers broadcasts on: the web inbox always (the chat
    # page shows it, whichever process serves it), Telegram with BOT_TOKEN, e-mail with
    # SMTP_URL.
    routes: frozenset[Channel] = frozenset({Channel.WEB})
    email_rate: float = 5.0  # messages a second to the SMTP server (SMTP_RATE)

    def route_rates(self) -> dict[Channel, float | None]:
        """Each route broadcasts go out on, with its messages a second (None: the web
        inbox, where a visitor's copy is as the job is queued)."""
        rates = {Channel.TELEGRAM: self.broadcast_rate, Channel.EMAIL: self.email_rate}
        return {route: rates.get(route) for route in self.routes}

    jobs_changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wake_delivery(self) -> None:
        """An effect: wake the delivery runner (a job was queued, paused, resumed, …)."""
        self.jobs_changed.set()


@dataclass
class Turn:
    """One event being handled: its user, their conversation state, a DB session."""

    context: Context
    event: Event
    session: AsyncSession
    user: User
    conversation: Conversation
    t: Translator
    first_contact: bool = False  # the user's first event: they are new
    # The commands this update is dispatched from (/help lists them, a menu shows them).
    commands: Sequence[Listed] = ()
    # The user asked for their data to be erased (after the commit): the transport keeps
    # nothing of them either (the web's cookie).
    gone: bool = False
    _admin: bool | None = field(default=None, init=False, repr=False)
    _effects: list[Effect] = field(default_factory=list, init=False, repr=False)

    @property
    def form(self) -> Form:
        return self.context.form

    async def is_admin(self) -> bool:
        """In ADMIN_IDS, or made an admin in the chat (stored). Asked only when it matters:
        most events never need it, and the hot path is one query shorter."""
        if self._admin is None:
            stored = await is_stored_admin(self.session, self.user.id)
            self._admin = self.user.id in self.context.admin_ids or stored
        return self._admin

    def after_commit(self, effect: Effect) -> None:
        """Run ``effect`` once this turn's transaction has committed, never after a
        rollback: what others see (the delivery runner, a command menu) must not run ahead
        of the database."""
        self._effects.append(effect)

    async def run_effects(self) -> None:
        """The router's, after the commit, in the order they were registered."""
        effects, self._effects = self._effects, []
        for effect in effects:
            await effect()
