"""An attendee answers a training event's satisfaction survey (clause K4).

Reached by the event's deep link (``/start survey-<code>``) or ``/survey <code>``, in the
attendee's language, even on first contact. The survey is a form like the interview and
runs on the same questionnaire engine; one response per attendee and event: coming
back offers to change the earlier answers (their history kept), never a second response.

An event with check-in cards (签到, models/attendance.py) asks for the attendee's card
first (or takes it from the link: ``survey-<code>-<card>``): a card checks in one person,
so a response counts only as one attendee, however many browsers or accounts one person
uses. Without cards, a response is one per account, and the report says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from forms.definition import Form, linked
from handlers.kernel import render
from handlers.kernel.commands import Buttons, Command, as_row_id
from handlers.kernel.context import Turn
from handlers.kernel.types import Reply
from handlers.questionnaire.chat import (
    Answers,
    Questionnaire,
    answers_of,
    current_application,
    proceed,
    review,
    stale,
)
from locales import N_, Translator
from models import attendance, queries
from models.tables import Application, ApplicationStatus, Flow, TrainingEvent, utcnow

FLOW = Flow.SURVEY
CHECK_IN = Flow.CHECK_IN
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
    return line_of(turn.t, event)


def line_of(t: Translator, event: TrainingEvent) -> str:
    return t(
        "survey.event_line",
        title=escape(event.title),
        date=t.date(event.event_date),
        place=escape(event.place),
    )


def landing(t: Translator, event: TrainingEvent | None, link: str) -> Reply:
    """What a scanned code shows before anything is stored: the event, what the survey
    keeps (scores, no name), and the button that starts it — or that the code is unknown,
    or the survey closed. ``link``: what followed the survey's address (the event's code,
    and a check-in card's when the card's link)."""
    if event is None:
        return Reply(t("survey.unknown", code=escape(link.partition("-")[0])))
    if not is_open(event):
        return Reply(t("survey.closed", event=line_of(t, event)))
    text = t("survey.landing", event=line_of(t, event)) + "\n\n" + t("privacy.notice_survey")
    start = render.button(t("button.survey_start"), BUTTONS.data("open", link))
    return Reply(text, ((start,),))


async def open_survey(turn: Turn, code: str) -> list[Reply]:
    """/survey <code> [card] and the deep link: check in if the event has cards, then
    start, resume, or offer to change the answers."""
    code, _, card = code.strip().replace(" ", "-").partition("-")
    if not code:
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
        return [Reply(intro), *await _checked_in_then(turn, event, response, card)]
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
    return [Reply(turn.t("survey.resumed")), *await _checked_in_then(turn, event, response, card)]


async def _checked_in_then(
    turn: Turn, event: TrainingEvent, response: Application, card: str = ""
) -> list[Reply]:
    """The next question, once the attendee is checked in (with ``card`` when the link
    carried one); else the question for their card."""
    assert event.id is not None
    user = turn.user.id
    needed = await attendance.card_needed(turn.session, event.id, user)
    if needed and not (card and (await attendance.check_in(turn.session, event.id, user, card)).ok):
        turn.conversation.application_id = response.id
        turn.conversation.flow = CHECK_IN
        turn.conversation.question_id = None
        return [Reply(turn.t("survey.check_in_ask"))]
    qn = questionnaire(turn)
    _, answers = await answers_of(turn, qn.form, response)
    turn.conversation.flow = FLOW
    return [proceed(turn, qn, response, answers)]


async def on_check_in(turn: Turn) -> list[Reply]:
    """The code on the attendee's card, typed: checked in, the survey starts; a code that
    is no card of the event, or someone else's, is said so and asked again."""
    response = await current_application(turn)
    event = None
    if response is not None and response.event_id is not None:
        event = await turn.session.get(TrainingEvent, response.event_id)
    if response is None or event is None or event.id is None:
        turn.conversation.flow = None
        return [Reply(turn.t("hint.no_flow"))]
    if not is_open(event):
        turn.conversation.flow = None
        return [Reply(turn.t("survey.closed", event=event_line(turn, event)))]
    typed = turn.event.text or ""
    taken = await attendance.check_in(turn.session, event.id, turn.user.id, typed)
    if not taken.ok:
        used = taken.reason == "used"
        key = N_("survey.check_in_used") if used else N_("survey.check_in_unknown")
        return [Reply(turn.t(key, code=escape(attendance.normalized_code(typed)[:12])))]
    return [Reply(turn.t("survey.check_in_ok")), *await _checked_in_then(turn, event, response)]


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
    assert event.id is not None
    if await attendance.card_needed(turn.session, event.id, turn.user.id):
        # an answer before the card (a forged or old button): the card first
        return await _checked_in_then(turn, event, response)
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
    """sv:change:<response id>; sv:open:<event code>[-<card>], from a survey's page."""
    action, _, response_id = data.partition(":")
    if action == "open":  # the start button of a survey's page (landing)
        return await open_survey(turn, response_id)
    number = as_row_id(response_id)
    if action == "change" and number is not None:
        return await change(turn, number)
    return stale(turn)


async def command(turn: Turn) -> list[Reply]:
    return await open_survey(turn, turn.event.args)


COMMAND = Command("survey", N_("command.survey"), command)
