"""The conversations that fill in a form, by the name ``Conversation.flow`` stores, and
what a press of their buttons runs (``handlers.questionnaire.buttons``; listed in the registry)."""

from __future__ import annotations

from handlers.applicant import draft, interview
from handlers.kernel.commands import Buttons, Press
from handlers.kernel.context import Turn
from handlers.kernel.types import Reply
from handlers.questionnaire import chat as questionnaire
from handlers.questionnaire.buttons import FORM_BUTTONS, Act, FormPress
from handlers.questionnaire.chat import FormFlow, flow_button, stale
from handlers.training import events, survey
from models.tables import Application

FLOWS: dict[str, FormFlow] = {
    interview.FLOW: interview,
    draft.FLOW: draft,
    survey.FLOW: survey,
    events.FLOW: events,
}


def of(turn: Turn) -> FormFlow | None:
    return FLOWS.get(turn.conversation.flow or "")


async def resume(turn: Turn) -> list[Reply]:
    """The question or review the user was at, if any (after /start, /language)."""
    flow = of(turn)
    if flow is None:
        return []
    found = await flow.current(turn)  # e.g. the call has closed since: say so instead
    if not isinstance(found, Application):
        if turn.conversation.flow == flow.FLOW:  # unless it sent the user elsewhere
            turn.conversation.flow = None
        return found
    return [await questionnaire.resume(turn, flow.questionnaire(turn))]


def _pressed(flow: FormFlow) -> Press:
    async def press(turn: Turn, data: str) -> list[Reply]:
        parsed = FormPress.parse(data)
        if parsed is None or turn.conversation.flow != flow.FLOW:
            return stale(turn)  # a form the user has left (or never was in)
        return await flow_button(turn, flow, parsed)

    return press


def _sent_before(act: Act) -> Press:
    """A button sent before form buttons said their form (``a:<question>:<value>``): it
    answers the form the user is in, with that form's rights."""

    async def press(turn: Turn, data: str) -> list[Reply]:
        flow = of(turn)
        if flow is None or (FORM_BUTTONS[flow.FLOW].admin and not await turn.is_admin()):
            return stale(turn)
        return await flow_button(turn, flow, FormPress.of(act, data))

    return press


BUTTONS: tuple[tuple[Buttons, Press], ...] = (
    *((FORM_BUTTONS[flow.FLOW], _pressed(flow)) for flow in FLOWS.values()),
    *((Buttons(act.value), _sent_before(act)) for act in Act),
)
