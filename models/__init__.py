"""Tables, the engine/session factory, migrations and the queries the handlers need."""

from models.db import connect, migrate, to_async_url
from models.tables import Answer, Application, Conversation, Draft, Event, Flag, User

__all__ = [
    "Answer",
    "Application",
    "Conversation",
    "Draft",
    "Event",
    "Flag",
    "User",
    "connect",
    "migrate",
    "to_async_url",
]
