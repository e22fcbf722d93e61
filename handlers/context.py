"""What a handler is handed: the runtime's settings and services, and the current turn."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from forms.definition import Form
from handlers.types import Event, Sender
from locales import Translator
from models.queries import is_stored_admin
from models.tables import Conversation, User


@dataclass
class Context:
    """Given by the runtime (bot/), so handlers never import it."""

    sessions: async_sessionmaker[AsyncSession]
    form: Form
    admin_ids: frozenset[int] = frozenset()
    default_locale: str = "zh_CN"
    # Filled in by the transport once it has connected (None in the console and tests
    # that need neither): the bot's @username for deep links, its id (the update ids it
    # handled are remembered per bot), and the sender for traffic that is not a reply
    # (broadcasts).
    bot_username: str | None = None
    bot_id: int = 0
    # The web chat's public address (PUBLIC_URL), for the links attendees scan.
    public_url: str | None = None
    sender: Sender | None = None
    # Broadcasts: messages per second, and a signal that a job was queued, paused, resumed
    # or cancelled, so the delivery runner looks at once instead of at its next poll.
    broadcast_rate: float = 25.0
    jobs_changed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Turn:
    """One event being handled: its user, their conversation state, a DB session."""

    context: Context
    event: Event
    session: AsyncSession
    user: User
    conversation: Conversation
    t: Translator
    _admin: bool | None = field(default=None, init=False, repr=False)

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
