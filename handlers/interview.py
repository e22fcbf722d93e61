"""The eligibility interview: ask, check, go back, review, submit, start again.

State is the ``Conversation`` row (flow + current question) and the answers table; both
are written in the same transaction as the reply is decided, before it is sent.
"""

from __future__ import annotations

from html import escape

from forms import engine
from forms.answers import InvalidAnswer, Parsed, Value, decode, encode, parse
from forms.definition import Question
from handlers import render
from handlers.context import Turn
from handlers.types import Reply
from models import queries
from models.tables import Answer, Application, utcnow
from models.tables import Flag as StoredFlag


async def _application(turn: Turn) -> Application | None:
    app_id = turn.conversation.application_id
    return await turn.session.get(Application, app_id) if app_id is not None else None


async def _answers(
    turn: Turn, application: Application
) -> tuple[dict[str, Answer], dict[str, Value]]:
    assert application.id is not None
    rows = await queries.current_answers(turn.session, application.id)
    form = turn.form
    values = {
        qid: decode(form.question(qid), row.value)
        for qid, row in rows.items()
        if form.has_question(qid)
    }
    return rows, values


def _ask(
    turn: Turn,
    application: Application,
    question: Question,
    answers: dict[str, Value],
    *,
    error: str | None = None,
    group: str | None = None,
    edit: bool = False,
) -> Reply:
    conversation = turn.conversation
    conversation.flow = "interview"
    conversation.application_id = application.id
    conversation.question_id = question.id
    conversation.pending = None
    return render.question_reply(
        turn.t, turn.form, question, answers, group=group, error=error, edit=edit
    )


def _review(turn: Turn, application: Application, answers: dict[str, Value]) -> Reply:
    conversation = turn.conversation
    conversation.flow = "review"
    conversation.application_id = application.id
    conversation.question_id = None
    questions = [q for q in engine.applicable(turn.form, answers) if q.id in answers]
    return render.review_reply(turn.t, turn.form, questions, answers)


def _proceed(turn: Turn, application: Application, answers: dict[str, Value]) -> Reply:
    """The first unanswered question, or the review when every question has an answer."""
    question = engine.next_question(turn.form, answers)
    if question is None:
        return _review(turn, application, answers)
    return _ask(turn, application, question, answers)


def _stale(turn: Turn) -> list[Reply]:
    return [Reply(turn.t("error.stale_button"))]


async def _new_version(turn: Turn, previous: Application | None) -> Application:
    """A new application; a re-run copies the previous answers so only changes are typed."""
    form = turn.form
    version = previous.version + 1 if previous else 1
    application = await queries.add_application(
        turn.session, turn.user.id, form.id, form.version, version
    )
    if previous is not None and previous.id is not None:
        assert application.id is not None
        for row in (await queries.current_answers(turn.session, previous.id)).values():
            await queries.record_answer(
                turn.session,
                application.id,
                row.question_id,
                row.value,
                row.raw_text,
                previous=None,
            )
        await turn.session.flush()
    return application


async def start(turn: Turn) -> list[Reply]:
    """/apply: start, resume, or offer a new version of a submitted application."""
    latest = await queries.latest_application(turn.session, turn.user.id, turn.form.id)
    if latest is None:
        application = await _new_version(turn, None)
        return [
            Reply(turn.t("interview.intro", programme=turn.t(turn.form.title))),
            _proceed(turn, application, {}),
        ]
    if latest.status == "submitted":
        turn.conversation.flow = None
        turn.conversation.application_id = latest.id
        assert latest.submitted_at is not None
        text = turn.t(
            "interview.already_submitted",
            version=latest.version,
            date=turn.t.date(latest.submitted_at.date()),
            verdict=render.verdict_text(turn.t, latest.verdict or "not_eligible"),
        )
        keyboard = (
            (render.button(turn.t("button.show_result"), "result"),),
            (render.button(turn.t("button.restart"), "restart"),),
        )
        return [Reply(text, keyboard)]
    turn.conversation.application_id = latest.id
    return [Reply(turn.t("interview.resumed")), await resume(turn)]


async def resume(turn: Turn) -> Reply:
    """Ask again whatever the user was last asked (used after /apply, /language, restarts)."""
    application = await _application(turn)
    assert application is not None
    _, answers = await _answers(turn, application)
    qid = turn.conversation.question_id
    applicable = {q.id for q in engine.applicable(turn.form, answers)}
    if turn.conversation.flow == "interview" and qid in applicable:
        return _ask(turn, application, turn.form.question(qid), answers)
    return _proceed(turn, application, answers)


async def restart(turn: Turn) -> list[Reply]:
    latest = await queries.latest_application(turn.session, turn.user.id, turn.form.id)
    if latest is not None and latest.status != "submitted":
        turn.conversation.application_id = latest.id
        return [await resume(turn)]
    application = await _new_version(turn, latest)
    _, answers = await _answers(turn, application)
    return [
        Reply(turn.t("interview.new_version", version=application.version)),
        _proceed(turn, application, answers),
    ]


async def show_result(turn: Turn) -> list[Reply]:
    latest = await queries.latest_application(turn.session, turn.user.id, turn.form.id)
    if latest is None or latest.status != "submitted" or latest.id is None:
        return [Reply(turn.t("result.none"))]
    flags = await queries.flags_of(turn.session, latest.id)
    return [render.result_reply(turn.t, turn.form, latest, flags)]


async def _accept(
    turn: Turn,
    application: Application,
    question: Question,
    value: Value,
    raw: str | None,
    *,
    pressed: bool,
) -> list[Reply]:
    assert application.id is not None
    rows, answers = await _answers(turn, application)
    await queries.record_answer(
        turn.session,
        application.id,
        question.id,
        encode(value),
        raw,
        previous=rows.get(question.id),
    )
    answers[question.id] = value
    replies = [render.answered_reply(turn.t, turn.form, question, value)] if pressed else []
    disqualifiers = engine.disqualifiers_from(turn.form, answers, question.id)
    if disqualifiers:
        records = [_record(application.id, f) for f in disqualifiers]
        replies.append(render.disqualified_notice(turn.t, records))
    replies.append(_proceed(turn, application, answers))
    return replies


def _record(application_id: int, flag: engine.Flag) -> StoredFlag:
    rule = flag.rule
    return StoredFlag(
        application_id=application_id,
        rule_id=rule.id,
        severity=rule.severity,
        clause=rule.clause,
        message_key=rule.message,
        values=render.flag_values(flag),
    )


async def on_text(turn: Turn, text: str) -> list[Reply]:
    """A typed answer to the current question, or a number on the review screen."""
    application = await _application(turn)
    if application is None or application.status == "submitted":
        turn.conversation.flow = None
        return [Reply(turn.t("hint.no_flow"))]
    if turn.conversation.flow == "review":
        return await _review_choice(turn, application, text)
    _rows, answers = await _answers(turn, application)
    qid = turn.conversation.question_id
    if qid is None or not turn.form.has_question(qid):
        return [_proceed(turn, application, answers)]
    question = turn.form.question(qid)
    try:
        parsed = parse(question, text)
    except InvalidAnswer as e:
        values = {k: escape(str(v)) for k, v in e.values.items()}  # may echo what was typed
        return [_ask(turn, application, question, answers, error=turn.t(e.key, **values))]
    if parsed.confirm:
        return [_ask_to_confirm(turn, question, parsed, text)]
    return await _accept(turn, application, question, parsed.value, text, pressed=False)


def _ask_to_confirm(turn: Turn, question: Question, parsed: Parsed, raw: str) -> Reply:
    turn.conversation.flow = "confirm"
    turn.conversation.pending = {"question": question.id, "value": encode(parsed.value), "raw": raw}
    assert parsed.confirm is not None
    keyboard = (
        (
            render.button(turn.t("button.confirm"), "confirm:yes"),
            render.button(turn.t("button.retype"), "confirm:no"),
        ),
    )
    return Reply(turn.t(parsed.confirm, **parsed.confirm_values), keyboard)


async def _review_choice(turn: Turn, application: Application, text: str) -> list[Reply]:
    _, answers = await _answers(turn, application)
    questions = [q for q in engine.applicable(turn.form, answers) if q.id in answers]
    choice = text.strip()
    if choice.isdigit() and 1 <= int(choice) <= len(questions):
        return [_ask(turn, application, questions[int(choice) - 1], answers)]
    review = _review(turn, application, answers)
    return [Reply(turn.t("error.review_choice", max=len(questions))), review]


async def on_button(turn: Turn, data: str) -> list[Reply]:
    """Interview buttons: a:<qid>:<value>, g:<qid>:<group>, back, keep, edit, confirm, submit."""
    kind, _, rest = data.partition(":")
    application = await _application(turn)
    if application is None or application.status == "submitted":
        return _stale(turn)
    _rows, answers = await _answers(turn, application)
    conversation = turn.conversation
    if kind == "submit":
        return (
            await _submit(turn, application, answers)
            if conversation.flow == "review"
            else _stale(turn)
        )
    if kind == "confirm":
        return await _confirmed(turn, application, answers, rest == "yes")
    qid, _, value = rest.partition(":")
    if not turn.form.has_question(qid):
        return _stale(turn)
    question = turn.form.question(qid)
    if kind == "edit":
        if question not in engine.applicable(turn.form, answers):
            return _stale(turn)
        return [_ask(turn, application, question, answers)]
    if conversation.flow != "interview" or conversation.question_id != qid:
        return _stale(turn)
    if kind == "a":
        return await _pressed_answer(turn, application, question, value)
    if kind == "g":
        return [_ask(turn, application, question, answers, group=value or None, edit=True)]
    if kind == "back":
        previous = engine.previous_question(turn.form, answers, qid)
        return [_ask(turn, application, previous or question, answers)]
    if kind == "keep" and qid in answers:
        return [_proceed(turn, application, answers)]
    return _stale(turn)


async def _pressed_answer(
    turn: Turn, application: Application, question: Question, value: str
) -> list[Reply]:
    parsed: Value
    if question.type == "yes_no" and value in ("1", "0"):
        parsed = value == "1"
    elif question.type == "choice" and question.option(value) is not None:
        parsed = value
    else:
        return _stale(turn)
    return await _accept(turn, application, question, parsed, None, pressed=True)


async def _confirmed(
    turn: Turn, application: Application, answers: dict[str, Value], yes: bool
) -> list[Reply]:
    pending = turn.conversation.pending
    if turn.conversation.flow != "confirm" or not pending:
        return _stale(turn)
    question = turn.form.question(pending["question"])
    if not yes:
        return [_ask(turn, application, question, answers)]
    value = decode(question, pending["value"])
    return await _accept(turn, application, question, value, pending["raw"], pressed=False)


async def _submit(turn: Turn, application: Application, answers: dict[str, Value]) -> list[Reply]:
    assert application.id is not None
    form = turn.form
    if engine.next_question(form, answers) is not None:
        return [_proceed(turn, application, answers)]
    outcome = engine.outcome(form, answers)
    records = [_record(application.id, f) for f in outcome.flags]
    await queries.replace_flags(turn.session, application.id, records)
    application.status = "submitted"
    application.verdict = outcome.verdict
    application.submitted_at = utcnow()
    application.programme_version = form.version
    application.figures = {k: None if v is None else str(v) for k, v in outcome.derived.items()}
    turn.session.add(application)
    turn.conversation.flow = None
    turn.conversation.question_id = None
    return [render.result_reply(turn.t, form, application, records)]
