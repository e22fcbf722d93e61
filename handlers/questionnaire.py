"""Running any form in the chat: ask, read the answer, go back, skip, confirm, review.

The eligibility interview and the draft details are both questionnaires; what happens
when one is submitted is the business of their own modules. State is the
``Conversation`` row (flow, current question or None at the review, pending
confirmation) and the answers table, written in the transaction that decides the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from forms import engine
from forms.answers import InvalidAnswer, Parsed, Value, decode, decode_all, encode, parse
from forms.definition import Form, Question
from handlers import render
from handlers.context import Turn
from handlers.types import Reply
from models import queries
from models.tables import Answer, Application
from models.tables import Flag as StoredFlag


@dataclass(frozen=True)
class Questionnaire:
    flow: str  # the Conversation.flow while it runs
    form: Form
    review_title: str  # catalog keys
    submit_label: str


Answers = dict[str, Value]
Sheet = tuple[dict[str, Answer], Answers]  # an application's answer rows, and their values


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
    conversation.pending = None
    return render.question_reply(
        turn.t, qn.form, question, answers, group=group, error=error, edit=edit
    )


def review(turn: Turn, qn: Questionnaire, application: Application, answers: Answers) -> Reply:
    conversation = turn.conversation
    conversation.flow = qn.flow
    conversation.application_id = application.id
    conversation.question_id = None  # at the review
    conversation.pending = None
    questions = [q for q in engine.applicable(qn.form, answers) if q.id in answers]
    return render.review_reply(
        turn.t, qn.form, questions, answers, qn.review_title, qn.submit_label, f"submit:{qn.flow}"
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
        severity=rule.severity,
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
    replies.append(proceed(turn, qn, application, answers))
    return replies


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
        return [_ask_to_confirm(turn, question, parsed, text)]
    return await _accept(turn, qn, application, sheet, question, parsed.value, text, pressed=False)


def _ask_to_confirm(turn: Turn, question: Question, parsed: Parsed, raw: str) -> Reply:
    turn.conversation.pending = {"question": question.id, "value": encode(parsed.value), "raw": raw}
    assert parsed.confirm is not None
    keyboard = (
        (
            render.button(turn.t("button.confirm"), "confirm:yes"),
            render.button(turn.t("button.retype"), "confirm:no"),
        ),
    )
    return Reply(turn.t(parsed.confirm, **parsed.confirm_values), keyboard)


def _review_choice(
    turn: Turn, qn: Questionnaire, application: Application, answers: Answers, text: str
) -> list[Reply]:
    questions = [q for q in engine.applicable(qn.form, answers) if q.id in answers]
    choice = text.strip()
    if choice.isdigit() and 1 <= int(choice) <= len(questions):
        return [ask(turn, qn, application, questions[int(choice) - 1], answers)]
    error = Reply(
        turn.t("error.review_choice", max=len(questions), submit=turn.t(qn.submit_label))
    )
    return [error, review(turn, qn, application, answers)]


async def on_button(
    turn: Turn, qn: Questionnaire, application: Application, data: str
) -> list[Reply]:
    """a:<qid>:<value>, g:<qid>:<group>, back:<qid>, keep:<qid>, skip:<qid>, edit:<qid>,
    confirm:yes|no. Buttons of an earlier question or state are refused as stale."""
    kind, _, rest = data.partition(":")
    sheet = await answers_of(turn, qn.form, application)
    answers = sheet[1]
    if kind == "confirm":
        return await _confirmed(turn, qn, application, sheet, rest == "yes")
    qid, _, value = rest.partition(":")
    if not qn.form.has_question(qid):
        return stale(turn)
    question = qn.form.question(qid)
    if kind == "edit":
        if question not in engine.applicable(qn.form, answers):
            return stale(turn)
        return [ask(turn, qn, application, question, answers)]
    if turn.conversation.question_id != qid or turn.conversation.pending:
        return stale(turn)
    match kind:
        case "a":
            return await _pressed_answer(turn, qn, application, sheet, question, value)
        case "g":
            return [ask(turn, qn, application, question, answers, group=value or None, edit=True)]
        case "back":
            previous = engine.previous_question(qn.form, answers, qid)
            return [ask(turn, qn, application, previous or question, answers)]
        case "keep" if qid in answers:
            return [proceed(turn, qn, application, answers)]
        case "skip" if question.optional:
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
    yes: bool,
) -> list[Reply]:
    pending = turn.conversation.pending
    if not pending or not qn.form.has_question(pending.get("question", "")):
        return stale(turn)
    question = qn.form.question(pending["question"])
    if not yes:
        return [ask(turn, qn, application, question, sheet[1])]
    value = decode(question, pending["value"])
    raw = pending["raw"]
    return await _accept(turn, qn, application, sheet, question, value, raw, pressed=False)


class Flow(Protocol):
    """A conversation that fills in a form: the interview, the draft details, a survey,
    an event's setup. Each says which form it is filling in (or why none is) and what
    submitting it does; asking, reading answers and reviewing are the same for all."""

    FLOW: str

    def questionnaire(self, turn: Turn) -> Questionnaire: ...

    async def current(self, turn: Turn) -> Application | list[Reply]:
        """The application being filled in, or what to say when there is none."""
        ...

    async def submit(self, turn: Turn, application: Application, answers: Answers) -> list[Reply]:
        """Every question is answered and the user confirmed the review."""
        ...


async def flow_text(turn: Turn, flow: Flow, text: str) -> list[Reply]:
    found = await flow.current(turn)
    if not isinstance(found, Application):
        turn.conversation.flow = None
        return found
    return await on_text(turn, flow.questionnaire(turn), found, text)


async def flow_button(turn: Turn, flow: Flow, data: str) -> list[Reply]:
    found = await flow.current(turn)
    if not isinstance(found, Application):
        return found
    qn = flow.questionnaire(turn)
    if data != f"submit:{qn.flow}":
        return await on_button(turn, qn, found, data)
    _, answers = await answers_of(turn, qn.form, found)
    if turn.conversation.question_id is not None or engine.next_question(qn.form, answers):
        return stale(turn)  # a review button pressed after the review was left
    turn.conversation.flow = None
    turn.conversation.question_id = None
    return await flow.submit(turn, found, answers)
