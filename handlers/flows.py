"""The conversations that fill in a form, by the name ``Conversation.flow`` stores."""

from __future__ import annotations

from handlers import draft, events, interview, questionnaire, survey
from handlers.context import Turn
from handlers.types import Reply
from models.tables import Application

FLOWS: dict[str, questionnaire.FormFlow] = {
    interview.FLOW: interview,
    draft.FLOW: draft,
    survey.FLOW: survey,
    events.FLOW: events,
}


def of(turn: Turn) -> questionnaire.FormFlow | None:
    return FLOWS.get(turn.conversation.flow or "")


async def resume(turn: Turn) -> list[Reply]:
    """The question or review the user was at, if any (after /start, /language)."""
    flow = of(turn)
    if flow is None:
        return []
    found = await flow.current(turn)  # e.g. the call has closed since: say so instead
    if not isinstance(found, Application):
        turn.conversation.flow = None
        return found
    return [await questionnaire.resume(turn, flow.questionnaire(turn))]
