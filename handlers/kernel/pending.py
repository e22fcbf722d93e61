"""What a conversation holds between two messages (``Conversation.pending``): an answer
waiting to be confirmed, or the broadcast an admin is composing.

Read and written only here, each kind by its ``kind``, so a feature that finds another's
holds nothing of its own, never a misread one. Rows written before ``kind`` was stored
are told apart by their fields, so no migration is needed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Discriminator, Tag, TypeAdapter, ValidationError

from handlers.admin.broadcast_queue import Message
from models.tables import Conversation


class PendingAnswer(BaseModel):
    """An answer read but not stored yet: it waits for the user to confirm the reading
    (or pick one of several)."""

    kind: Literal["answer"] = "answer"
    question: str
    value: Any  # encoded as an answer is stored
    raw: str  # what the user typed
    choices: list[Any] = []  # several readings, encoded
    checked: bool = False  # the form's checks have been passed already


class BroadcastDraft(BaseModel):
    """The broadcast an admin is composing: first the message, then the audience, then
    the confirmation."""

    kind: Literal["broadcast"] = "broadcast"
    step: Literal["compose", "audience", "confirm"] = "compose"
    message: Message | None = None
    audience: str | None = None  # as Audience.parse reads it


def _kind(stored: Any) -> str | None:
    if not isinstance(stored, dict):
        return getattr(stored, "kind", None)
    kind = stored.get("kind")
    if kind is None:  # stored before pending said its kind
        return "answer" if "question" in stored else "broadcast" if "step" in stored else None
    return str(kind)


Pending = Annotated[
    Annotated[PendingAnswer, Tag("answer")] | Annotated[BroadcastDraft, Tag("broadcast")],
    Discriminator(_kind),
]
_PENDING: TypeAdapter[Pending] = TypeAdapter(Pending)

Held = TypeVar("Held", PendingAnswer, BroadcastDraft)


def read(conversation: Conversation) -> Pending | None:
    """What the conversation holds, if anything anyone can read."""
    if conversation.pending is None:
        return None
    try:
        return _PENDING.validate_python(conversation.pending)
    except ValidationError:  # a shape no version of the bot writes
        return None


def get(conversation: Conversation, kind: type[Held]) -> Held | None:
    """What the conversation holds if it is of ``kind``; another feature's is not."""
    held = read(conversation)
    return held if isinstance(held, kind) else None


def put(conversation: Conversation, held: Pending | None) -> None:
    """Hold ``held`` (None: nothing) until the next message."""
    conversation.pending = None if held is None else held.model_dump(mode="json")
