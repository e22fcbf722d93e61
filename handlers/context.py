"""What a handler is handed: the runtime's settings and services, and the current turn."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from forms.definition import Form
from handlers.types import Event
from locales import Translator
from models.tables import Conversation, User


@dataclass(frozen=True)
class Context:
    """Given by the runtime (bot/), so handlers never import it."""

    sessions: async_sessionmaker[AsyncSession]
    form: Form
    admin_ids: frozenset[int] = frozenset()
    default_locale: str = "zh_CN"


@dataclass
class Turn:
    """One event being handled: its user, their conversation state, a DB session."""

    context: Context
    event: Event
    session: AsyncSession
    user: User
    conversation: Conversation
    t: Translator

    @property
    def form(self) -> Form:
        return self.context.form

    @property
    def is_admin(self) -> bool:
        return self.user.id in self.context.admin_ids
