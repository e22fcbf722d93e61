"""The buttons of a form in the chat — answer, back, keep, skip, review, confirm, submit —
built and read here, as every other family of buttons is (``handlers.kernel.commands``).

Each form has its own family, ``<prefix>:<act>:<question id>[:<value>]``, so the router
checks the rights of an admin's form (an event's setup) from the registry, before anything
of it runs. Buttons sent before that (``a:<question>:<value>``, ``submit:<flow>``) named no
form: they still answer the form the user is in (``handlers.kernel.flows``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.kernel.commands import Buttons
from models.tables import Flow


class Act(StrEnum):
    """What a form's button does; the value is what its callback data says."""

    ANSWER = "a"  # a:<question>:<option id, or 1|0 for yes/no>
    GROUP = "g"  # g:<question>:<group> — the options of one group; empty: the groups
    BACK = "back"  # back:<question> — to the previous question
    KEEP = "keep"  # keep:<question> — the answer it has
    SKIP = "skip"  # skip:<question> — an optional one
    EDIT = "edit"  # edit:<question> — from the review
    CONFIRM = "confirm"  # confirm:yes|no|<n> — the reading of a typed answer
    SUBMIT = "submit"  # submit (before: submit:<flow>) — the review is confirmed


# One family per form. An admin's form is an admin family: a non-admin's press of it
# reaches nothing.
FORM_BUTTONS: dict[Flow, Buttons] = {
    Flow.INTERVIEW: Buttons("qi"),
    Flow.DETAILS: Buttons("qd"),
    Flow.SURVEY: Buttons("qs"),
    Flow.EVENT_SETUP: Buttons("qe", admin=True),
}


@dataclass(frozen=True)
class FormPress:
    """A pressed form button, read from what follows its family's prefix."""

    act: Act
    target: str = ""  # the question id; for CONFIRM the choice; for an old SUBMIT the flow
    value: str = ""  # ANSWER: the option; GROUP: the group

    @classmethod
    def parse(cls, data: str) -> FormPress | None:
        """``<act>:<target>[:<value>]``; None for an act no form button has."""
        act, _, rest = data.partition(":")
        try:
            return cls.of(Act(act), rest)
        except ValueError:
            return None

    @classmethod
    def of(cls, act: Act, rest: str) -> FormPress:
        target, _, value = rest.partition(":")
        return cls(act, target, value)


def data(flow: Flow | str, act: Act, *parts: str) -> str:
    """The callback data of a button of ``flow``'s form."""
    return FORM_BUTTONS[Flow(flow)].data(act, *parts)
