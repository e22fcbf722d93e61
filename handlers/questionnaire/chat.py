"""Running any form in the chat: ask, read the answer, go back, skip, confirm, review.

The eligibility interview and the draft details are both questionnaires; what happens
when one is submitted is the business of their own modules. State is the
``Conversation`` row (flow, current question or None at the review, pending
confirmation) and the answers table, written in the transaction that decides the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any, Protocol

from forms import engine
from forms.answers import InvalidAnswer, Parsed, Value, decode, decode_all, encode, parse
from forms.definition import Check, Form, Question
from handlers.kernel import pending, render
from handlers.kernel.commands import Buttons, as_row_id
from handlers.kernel.context import Turn
from handlers.kernel.pending import PendingAnswer
from handlers.kernel.types import Reply
from handlers.questionnaire.buttons import FORM_BUTTONS, Act, FormPress
from models import queries
from models.queries import StoredAnswer
from models.tables import Application, Flow, Severity
from models.tables import Flag as StoredFlag


@dataclass(frozen=True)
class Questionnaire:
    flow: Flow  # the Conversation.flow while it runs
    form: Form
    review_title: str  # catalog keys
    submit_label: str

    @property
    def buttons(self) -> Buttons:
        return FORM_BUTTONS[self.flow]


Answers = dict[str, Value]
Sheet = tuple[dict[str, StoredAnswer], Answers]  # an application's answer rows, and their values


def stale(turn: Turn) -> list[Reply]:
    return [Reply(turn.t("error.stale_button"))]


async def current_application(turn: Turn) -> Application | None:
    app_id = turn.conversation.application_id
    return await turn.session.get(Application, app_id) if app_id is not None else None


async def answers_of(turn: Turn, form: Form, application: Application) -> Sheet:
    """The current answer rows of the application, and those of this form decoded."""
    assert application.id is not None
    rows = await queries.current_answers(turn.session, application.id)
    return rows, decode_all(form, {qid: row.value for qid, row in rows.items()})


def ask(
    turn: Turn,
    qn: Questionnaire,
    application: Application,
    question: Question,
    answers: Answers,
    *,
    error: str | None = None,
    group: str | None = None,
    edit: bool = False,
) -> Reply:
    conversation = turn.conversation
    conversation.flow = qn.flow
    conversation.application_id = application.id
    conversation.question_id = question.id
    pending.put(conversation, None)
    return render.question_reply(
        turn.t, qn.form, question, answers, qn.buttons, group=group, error=error, edit=edit
    )


def review(turn: Turn, qn: Questionnaire, application: Application, answers: Answers) -> Reply:
    conversation = turn.conversation
    conversation.flow = qn.flow
    conversation.application_id = application.id
    conversation.question_id = None  # at the review
    pending.put(conversation, None)
    questions = [q for q in engine.applicable(qn.form, answers) if q.id in answers]
    return render.review_reply(
        turn.t, qn.form, questions, answers, qn.review_title, qn.submit_label, qn.buttons
    )


def proceed(turn: Turn, qn: Questionnaire, application: Application, answers: Answers) -> Reply:
    """The first unanswered question, or the review when every question has an answer."""
    question = engine.next_question(qn.form, answers)
    if question is None:
        return review(turn, qn, application, answers)
    return ask(turn, qn, application, question, answers)


async def resume(turn: Turn, qn: Questionnaire) -> Reply:
    """Show again what the user was last shown: their question, or the review."""
    application = await current_application(turn)
    assert application is not None
    _, answers = await answers_of(turn, qn.form, application)
    qid = turn.conversation.question_id
    if qid is not None and qid in {q.id for q in engine.applicable(qn.form, answers)}:
        return ask(turn, qn, application, qn.form.question(qid), answers)
    return proceed(turn, qn, application, answers)


def flag_record(application_id: int, flag: engine.Flag) -> StoredFlag:
    rule = flag.rule
    return StoredFlag(
        application_id=application_id,
        rule_id=rule.id,
        severity=Severity(rule.severity),
        clause=rule.clause,
        message_key=rule.message,
        values=render.flag_values(flag),
    )


async def _accept(
    turn: Turn,
    qn: Questionnaire,
    application: Application,
    sheet: Sheet,
    question: Question,
    value: Value,
    raw: str | None,
    *,
    pressed: bool,
) -> list[Reply]:
    """Store the answer (the one it replaces kept as history) and move on. ``sheet`` is
    the application's answers as the caller read them: read once per event."""
    assert application.id is not None
    rows, answers = sheet
    await queries.record_answer(
        turn.session, application.id, question.id, encode(value), raw, rows.get(question.id)
    )
    answers[question.id] = value
    replies = [render.answered_reply(turn.t, qn.form, question, value)] if pressed else []
    disqualifiers = engine.disqualifiers_from(qn.form, answers, question.id)
    if disqualifiers:
        records = [flag_record(application.id, f) for f in disqualifiers]
        replies.append(render.disqualified_notice(turn.t, records))
    for check, seen in _doubts(turn, qn, sheet, question, "notice"):
        replies.append(Reply("⚠️ " + _doubt_text(turn, qn, question, check, seen)))
    replies.append(proceed(turn, qn, application, answers))
    return replies


def _doubts(
    turn: Turn, qn: Questionnaire, sheet: Sheet, question: Question, action: str
) -> list[tuple[Check, dict[str, Any]]]:
    """The checks the answer just given raises (``sheet`` holds it among the answers).
    A form that reads inputs from the interview (the draft details) sees its answers too."""
    if not any(c.question == question.id for c in qn.form.checks):
        return []
    rows, answers = sheet
    outer = turn.form if qn.form.inputs else None
    stored = {qid: row.value for qid, row in rows.items()}
    outer_answers = decode_all(outer, stored) if outer is not None else None
    names = engine.check_names(qn.form, answers, outer, outer_answers)
    return engine.doubts(qn.form, question.id, action, names)


def _doubt_text(
    turn: Turn, qn: Questionnaire, question: Question, check: Check, seen: dict[str, Any]
) -> str:
    shown = {
        name: turn.t.number(v) if isinstance(v, Decimal | int) else escape(str(v))
        for name, v in seen.items()
    }
    # A draft-details form has no years of its own: the call's (turn.form) name them.
    context = {
        **render.question_vars(turn.t, turn.form, question),
        **render.question_vars(turn.t, qn.form, question),
        "clause": check.clause or "",
    }
    return turn.t(check.message, **{**context, **shown})  # the figures as the check saw them


async def _settle(
    turn: Turn, qn: Questionnaire, application: Application, sheet: Sheet,
    question: Question, value: Value, raw: str,
) -> list[Reply]:  # fmt: skip
    """A typed answer whose reading is settled: stored, unless a check asks to confirm
    it first (a product revenue above the year's revenue)."""
    trial: Sheet = (sheet[0], {**sheet[1], question.id: value})
    doubts = _doubts(turn, qn, trial, question, "confirm")
    if not doubts:
        return await _accept(turn, qn, application, sheet, question, value, raw, pressed=False)
    check, seen = doubts[0]
    message = _doubt_text(turn, qn, question, check, seen)
    return [_ask_to_confirm(turn, qn, question, Parsed(value), raw, message, checked=True)]


async def on_text(
    turn: Turn, qn: Questionnaire, application: Application, text: str
) -> list[Reply]:
    """A typed answer to the current question, or an item number on the review."""
    sheet = await answers_of(turn, qn.form, application)
    answers = sheet[1]
    qid = turn.conversation.question_id
    if qid is None:
        return _review_choice(turn, qn, application, answers, text)
    if not qn.form.has_question(qid):
        return [proceed(turn, qn, application, answers)]
    question = qn.form.question(qid)
    if turn.event.attachment is not None and not text.strip():
        # A photo or file with no caption: say that it is not an answer, not "nothing came".
        return [ask(turn, qn, application, question, answers, error=turn.t("error.attachment"))]
    try:
        parsed = parse(question, text)
    except InvalidAnswer as e:
        error = render.invalid(turn.t, e)
        return [ask(turn, qn, application, question, answers, error=error)]
    if parsed.confirm:
        message = turn.t(parsed.confirm, **_confirm_values(turn, question, parsed))
        return [_ask_to_confirm(turn, qn, question, parsed, text, message)]
    return await _settle(turn, qn, application, sheet, question, parsed.value, text)


def _confirm_values(turn: Turn, question: Question, parsed: Parsed) -> dict[str, str]:
    """What a confirmation shows: numbers as the question shows them (5,000 万元), and
    what the user typed as text."""
    return {
        name: render.show_value(turn.t, question, v)
        if isinstance(v, Decimal | int)
        else escape(str(v))
        for name, v in parsed.confirm_values.items()
    }


def _ask_to_confirm(
    turn: Turn,
    qn: Questionnaire,
    question: Question,
    parsed: Parsed,
    raw: str,
    message: str,
    *,
    checked: bool = False,
) -> Reply:
    """Ask before storing: confirm the one reading, or pick one of several, or retype.
    ``checked``: the form's checks have been passed already."""
    waiting = PendingAnswer(
        question=question.id,
        value=encode(parsed.value),
        raw=raw,
        choices=[encode(c) for c in parsed.choices],
        checked=checked,
    )
    pending.put(turn.conversation, waiting)
    family, t = qn.buttons, turn.t
    retype = render.button(t("button.retype"), family.data(Act.CONFIRM, "no"))
    if not parsed.choices:
        confirm = render.button(t("button.confirm"), family.data(Act.CONFIRM, "yes"))
        return Reply(message, ((confirm, retype),))
    picks = [
        render.button(render.show_value(t, question, c), family.data(Act.CONFIRM, str(n)))
        for n, c in enumerate(parsed.choices)
    ]
    return Reply(message, (*render.rows(picks, 1), (retype,)))


def _review_choice(
    turn: Turn, qn: Questionnaire, application: Application, answers: Answers, text: str
) -> list[Reply]:
    questions = [q for q in engine.applicable(qn.form, answers) if q.id in answers]
    choice = as_row_id(text.strip())
    if choice is not None and choice <= len(questions):
        return [ask(turn, qn, application, questions[choice - 1], answers)]
    error = Reply(turn.t("error.review_choice", max=len(questions), submit=turn.t(qn.submit_label)))
    return [error, review(turn, qn, application, answers)]


async def on_button(
    turn: Turn, qn: Questionnaire, application: Application, press: FormPress
) -> list[Reply]:
    """Any form button but submit (``Act``). Buttons of an earlier question or state are
    refused as stale."""
    sheet = await answers_of(turn, qn.form, application)
    answers = sheet[1]
    if press.act is Act.CONFIRM:
        return await _confirmed(turn, qn, application, sheet, press.target)
    qid, value = press.target, press.value
    if not qn.form.has_question(qid):
        return stale(turn)
    question = qn.form.question(qid)
    if press.act is Act.EDIT:
        if question not in engine.applicable(qn.form, answers):
            return stale(turn)
        return [ask(turn, qn, application, question, answers)]
    waiting = pending.get(turn.conversation, PendingAnswer)
    if turn.conversation.question_id != qid or waiting is not None:
        return stale(turn)
    match press.act:
        case Act.ANSWER:
            return await _pressed_answer(turn, qn, application, sheet, question, value)
        case Act.GROUP:
            return [ask(turn, qn, application, question, answers, group=value or None, edit=True)]
        case Act.BACK:
            previous = engine.previous_question(qn.form, answers, qid)
            return [ask(turn, qn, application, previous or question, answers)]
        case Act.KEEP if qid in answers:
            return [proceed(turn, qn, application, answers)]
        case Act.SKIP if question.optional:
            return await _accept(turn, qn, application, sheet, question, None, None, pressed=True)
    return stale(turn)


async def _pressed_answer(
    turn: Turn,
    qn: Questionnaire,
    application: Application,
    sheet: Sheet,
    question: Question,
    value: str,
) -> list[Reply]:
    parsed: Value
    if question.type == "yes_no" and value in ("1", "0"):
        parsed = value == "1"
    elif question.type == "choice" and question.option(value) is not None:
        parsed = value
    else:
        return stale(turn)
    return await _accept(turn, qn, application, sheet, question, parsed, None, pressed=True)


async def _confirmed(
    turn: Turn,
    qn: Questionnaire,
    application: Application,
    sheet: Sheet,
    choice: str,
) -> list[Reply]:
    """confirm:yes (the one reading), confirm:<n> (one of several), confirm:no (retype)."""
    waiting = pending.get(turn.conversation, PendingAnswer)
    if waiting is None or not qn.form.has_question(waiting.question):
        return stale(turn)
    question = qn.form.question(waiting.question)
    choices = waiting.choices
    if choice == "no":
        return [ask(turn, qn, application, question, sheet[1])]
    if choice == "yes" and not choices:
        stored = waiting.value
    elif (choice.isascii() and choice.isdigit()) and int(choice) < len(choices):
        stored = choices[int(choice)]
    else:
        return stale(turn)
    value, raw = decode(question, stored), waiting.raw
    if waiting.checked:
        return await _accept(turn, qn, application, sheet, question, value, raw, pressed=False)
    return await _settle(turn, qn, application, sheet, question, value, raw)


class FormFlow(Protocol):
    """A conversation that fills in a form: the interview, the draft details, a survey,
    an event's setup. Each says which form it is filling in (or why none is) and what
    submitting it does; asking, reading answers and reviewing are the same for all."""

    FLOW: Flow

    def questionnaire(self, turn: Turn) -> Questionnaire: ...

    async def current(self, turn: Turn) -> Application | list[Reply]:
        """The application being filled in, or what to say when there is none."""
        ...

    async def submit(self, turn: Turn, application: Application, answers: Answers) -> list[Reply]:
        """Every question is answered and the user confirmed the review."""
        ...


async def flow_text(turn: Turn, flow: FormFlow, text: str) -> list[Reply]:
    found = await flow.current(turn)
    if not isinstance(found, Application):
        if turn.conversation.flow == flow.FLOW:  # unless it sent the user elsewhere
            turn.conversation.flow = None
        return found
    return await on_text(turn, flow.questionnaire(turn), found, text)


async def flow_button(turn: Turn, flow: FormFlow, press: FormPress) -> list[Reply]:
    found = await flow.current(turn)
    if not isinstance(found, Application):
        return found
    qn = flow.questionnaire(turn)
    if press.act is not Act.SUBMIT:
        return await on_button(turn, qn, found, press)
    if press.target not in ("", qn.flow):  # an old button (submit:<flow>) of another form
        return stale(turn)
    _, answers = await answers_of(turn, qn.form, found)
    if turn.conversation.question_id is not None or engine.next_question(qn.form, answers):
        return stale(turn)  # a review button pressed after the review was left
    turn.conversation.flow = None
    turn.conversation.question_id = None
    return await flow.submit(turn, found, answers)
