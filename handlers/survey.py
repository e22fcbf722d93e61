"""An attendee answers a training event's satisfaction survey (clause K4).

Reached by the event's deep link (``/start survey-<code>``) or ``/survey <code>``, in the
attendee's language, even on first contact. The survey is a form like the interview and
runs on the same questionnaire engine; one response per attendee and event: coming
back offers to change the earlier answers (their history kept), never a second response.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from forms.definition import Form, linked
from handlers import render
from handlers.commands import Buttons, Command, as_row_id
from handlers.context import Turn
from handlers.questionnaire import (
    Answers,
    Questionnaire,
    answers_of,
    current_application,
    proceed,
    review,
    stale,
)
from handlers.types import Reply
from locales import N_
from models import queries
from models.tables import Application, ApplicationStatus, Flow, TrainingEvent, utcnow

FLOW = Flow.SURVEY
BUTTONS = Buttons("sv")
DEEP_LINK_PREFIX = "survey-"


def survey_form(form: Form) -> Form:
    return linked(form, "survey")


def questionnaire(turn: Turn) -> Questionnaire:
    return Questionnaire(
        FLOW, survey_form(turn.form), N_("survey.review_title"), N_("button.survey_submit")
    )


def is_open(event: TrainingEvent, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return not event.closed and (event.closes_at is None or now < event.closes_at)


def event_line(turn: Turn, event: TrainingEvent) -> str:
    return turn.t(
        "survey.event_line",
        title=escape(event.title),
        date=turn.t.date(event.event_date),
        place=escape(event.place),
    )


async def open_survey(turn: Turn, code: str) -> list[Reply]:
    """/survey <code> and the deep link: start, resume, or offer to change the answers."""
    if not code.strip():
        return [Reply(turn.t("survey.code_needed"))]
    event = await queries.event_by_code(turn.session, code)
    if event is None or event.id is None:
        return [Reply(turn.t("survey.unknown", code=escape(code.strip())))]
    if not is_open(event):
        return [Reply(turn.t("survey.closed", event=event_line(turn, event)))]
    qn = questionnaire(turn)
    response = await queries.response_of(turn.session, event.id, turn.user.id)
    if response is None:
        response = Application(
            user_id=turn.user.id,
            event_id=event.id,
            programme_id=qn.form.id,
            programme_version=qn.form.version,
        )
        turn.session.add(response)
        await turn.session.flush()
        intro = turn.t("survey.intro", event=event_line(turn, event), count=len(qn.form.questions))
        return [Reply(intro), proceed(turn, qn, response, {})]
    turn.conversation.application_id = response.id
    if response.status == ApplicationStatus.SUBMITTED:
        turn.conversation.flow = None
        assert response.submitted_at is not None and response.id is not None
        text = turn.t(
            "survey.already_answered",
            event=event_line(turn, event),
            date=render.local_date(turn.t, response.submitted_at),
        )
        change = render.button(turn.t("button.survey_change"), BUTTONS.data("change", response.id))
        return [Reply(text, ((change,),))]
    _, answers = await answers_of(turn, qn.form, response)
    turn.conversation.flow = FLOW
    return [Reply(turn.t("survey.resumed")), proceed(turn, qn, response, answers)]


async def change(turn: Turn, response_id: int) -> list[Reply]:
    """The review of a submitted response, each answer changeable while the event is open."""
    response = await turn.session.get(Application, response_id)
    if response is None or response.user_id != turn.user.id or response.event_id is None:
        return stale(turn)
    event = await turn.session.get(TrainingEvent, response.event_id)
    if event is None or not is_open(event):
        return [Reply(turn.t("survey.closed", event=event_line(turn, event) if event else ""))]
    qn = questionnaire(turn)
    _, answers = await answers_of(turn, qn.form, response)
    return [review(turn, qn, response, answers)]


async def current(turn: Turn) -> Application | list[Reply]:
    """The attendee's response, while its event takes answers."""
    response = await current_application(turn)
    event = None
    if response is not None and response.event_id is not None:
        event = await turn.session.get(TrainingEvent, response.event_id)
    if response is None or event is None:
        return [Reply(turn.t("hint.no_flow"))]
    if not is_open(event):
        return [Reply(turn.t("survey.closed", event=event_line(turn, event)))]
    return response


async def submit(turn: Turn, response: Application, answers: Answers) -> list[Reply]:
    assert response.event_id is not None
    event = await turn.session.get(TrainingEvent, response.event_id)
    assert event is not None
    changed = response.status == ApplicationStatus.SUBMITTED
    response.status = ApplicationStatus.SUBMITTED
    response.submitted_at = utcnow()
    turn.session.add(response)
    key = N_("survey.changed") if changed else N_("survey.thanks")
    return [Reply(turn.t(key, event=event_line(turn, event)))]


async def on_button(turn: Turn, data: str) -> list[Reply]:
    """sv:change:<response id>."""
    action, _, response_id = data.partition(":")
    number = as_row_id(response_id)
    if action == "change" and number is not None:
        return await change(turn, number)
    return stale(turn)


async def command(turn: Turn) -> list[Reply]:
    return await open_survey(turn, turn.event.args)


COMMAND = Command("survey", N_("command.survey"), command)
