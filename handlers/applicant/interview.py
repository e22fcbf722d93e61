"""The eligibility interview: start, resume, submit for a verdict, start again."""

from __future__ import annotations

from datetime import datetime

from forms import engine
from forms.answers import encode
from forms.definition import Form, linked
from handlers.applicant import email_address
from handlers.kernel import render
from handlers.kernel.commands import MENU, Buttons, Command
from handlers.kernel.context import Turn
from handlers.kernel.types import Reply
from handlers.questionnaire.chat import (
    Answers,
    Questionnaire,
    answers_of,
    current_application,
    flag_record,
    proceed,
    resume,
)
from locales import LOCAL_TIME, N_
from models import queries
from models.tables import Application, ApplicationStatus, Flow, Verdict, utcnow

FLOW = Flow.INTERVIEW
RESULT = Buttons("result")  # the verdict of the latest submission, again
RESTART = Buttons("restart")  # a new version of the assessment


def questionnaire(turn: Turn) -> Questionnaire:
    return Questionnaire(FLOW, turn.form, N_("review.title"), N_("button.submit"))


def _carried_over(form: Form) -> set[str]:
    """What a new version copies: the interview's answers and the draft details, so the
    second draft is not back to blank placeholders. Each stays changeable."""
    forms = [form, linked(form, "draft_details")] if form.draft_details else [form]
    return {q.id for f in forms for q in f.questions}


async def _new_version(turn: Turn, previous: Application | None) -> Application:
    """A new application; a re-run copies the previous answers so only changes are typed."""
    form = turn.form
    version = previous.version + 1 if previous else 1
    application = await queries.add_application(
        turn.session, turn.user.id, form.id, form.version, version
    )
    if previous is not None and previous.id is not None:
        assert application.id is not None
        carried = _carried_over(form)
        for row in (await queries.current_answers(turn.session, previous.id)).values():
            if row.question_id in carried:
                await queries.record_answer(
                    turn.session, application.id, row.question_id, row.value, row.raw_text, None
                )
    return application


async def _closed(turn: Turn) -> list[Reply] | None:
    """What to say once the call's application period is over (None while it runs): no
    new or changed assessment, but a submitted one's result and draft stay at hand."""
    period = turn.form.application_period
    if period is None or datetime.now(LOCAL_TIME).date() <= period.closes:
        return None
    turn.conversation.flow = None
    turn.conversation.question_id = None
    text = turn.t(
        "interview.closed", opens=turn.t.date(period.opens), closes=turn.t.date(period.closes)
    )
    if await queries.latest_submitted(turn.session, turn.user.id, turn.form.id) is None:
        return [Reply(text)]
    keyboard = (
        (render.button(turn.t("button.show_result"), RESULT.data()),),
        (render.button(turn.t("button.draft"), MENU.data("draft")),),
    )
    return [Reply(text, keyboard)]


async def start(turn: Turn) -> list[Reply]:
    """/apply: start, resume, or offer a new version of a submitted application."""
    closed = await _closed(turn)
    if closed is not None:
        return closed
    latest = await queries.latest_application(turn.session, turn.user.id, turn.form.id)
    if latest is None:
        application = await _new_version(turn, None)
        intro = Reply(turn.t("interview.intro", programme=turn.t(turn.form.title)))
        return [intro, proceed(turn, questionnaire(turn), application, {})]
    if latest.status == ApplicationStatus.SUBMITTED:
        turn.conversation.flow = None
        turn.conversation.application_id = latest.id
        assert latest.submitted_at is not None
        text = turn.t(
            "interview.already_submitted",
            version=latest.version,
            date=render.local_date(turn.t, latest.submitted_at),
            verdict=render.verdict_text(turn.t, latest.verdict or Verdict.NOT_ELIGIBLE),
        )
        keyboard = (
            (render.button(turn.t("button.show_result"), RESULT.data()),),
            (render.button(turn.t("button.restart"), RESTART.data()),),
        )
        return [Reply(text, keyboard)]
    if turn.conversation.flow != FLOW or turn.conversation.application_id != latest.id:
        turn.conversation.flow = FLOW
        turn.conversation.application_id = latest.id
        turn.conversation.question_id = None
    return [Reply(turn.t("interview.resumed")), await resume(turn, questionnaire(turn))]


async def restart(turn: Turn) -> list[Reply]:
    latest = await queries.latest_application(turn.session, turn.user.id, turn.form.id)
    if latest is not None and latest.status != ApplicationStatus.SUBMITTED:
        return await start(turn)
    closed = await _closed(turn)
    if closed is not None:
        return closed
    application = await _new_version(turn, latest)
    _, answers = await answers_of(turn, turn.form, application)
    notice = Reply(turn.t("interview.new_version", version=application.version))
    return [notice, proceed(turn, questionnaire(turn), application, answers)]


async def show_result(turn: Turn) -> list[Reply]:
    latest = await queries.latest_submitted(turn.session, turn.user.id, turn.form.id)
    if latest is None or latest.id is None:
        return [Reply(turn.t("result.none"))]
    flags = await queries.flags_of(turn.session, latest.id)
    return [render.result_reply(turn.t, turn.form, latest, flags, RESTART)]


async def current(turn: Turn) -> Application | list[Reply]:
    application = await current_application(turn)
    if application is None or application.status == ApplicationStatus.SUBMITTED:
        return [Reply(turn.t("hint.no_flow"))]
    return await _closed(turn) or application


async def submit(turn: Turn, application: Application, answers: Answers) -> list[Reply]:
    """The verdict, with the flags and figures it was reached with, kept as judged."""
    assert application.id is not None
    form = turn.form
    outcome = engine.outcome(form, answers)
    records = [flag_record(application.id, f) for f in outcome.flags]
    await queries.replace_flags(turn.session, application.id, records)
    application.status = ApplicationStatus.SUBMITTED
    application.verdict = Verdict(outcome.verdict)
    application.submitted_at = utcnow()
    application.programme_version = form.version
    figures = outcome.derived.items()
    application.figures = {k: None if v is None else str(encode(v)) for k, v in figures}
    turn.session.add(application)
    return [
        render.result_reply(turn.t, form, application, records, RESTART),
        *email_address.offer(turn),
    ]


async def on_result(turn: Turn, _: str) -> list[Reply]:
    return await show_result(turn)


async def on_restart(turn: Turn, _: str) -> list[Reply]:
    return await restart(turn)


COMMAND = Command("apply", N_("command.apply"), start)
