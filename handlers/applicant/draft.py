"""/draft: the draft application, and the optional "draft details" it asks for first.

The details are a questionnaire like the interview (same engine, same rules for bad
input), stored with the submitted application. A draft is generated from the newest
submitted application; each distinct draft is recorded with a version number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from forms.answers import decode_all
from forms.definition import Form, linked
from handlers.applicant.draft_document import filename, fingerprint, render_draft, template_version
from handlers.applicant.draft_values import DraftInput
from handlers.kernel import render
from handlers.kernel.commands import MENU, Buttons, Command
from handlers.kernel.context import Turn
from handlers.kernel.types import Document, Reply
from handlers.questionnaire.chat import (
    Answers,
    Questionnaire,
    answers_of,
    current_application,
    proceed,
    stale,
)
from locales import DEFAULT, LOCAL_TIME, N_, Translator, translator
from models import queries
from models.queries import StoredAnswer
from models.tables import Application, ApplicationStatus, Draft, Flow, Verdict

FLOW = Flow.DETAILS
BUTTONS = Buttons("draft")


def details_form(form: Form) -> Form:
    return linked(form, "draft_details")


def questionnaire(turn: Turn) -> Questionnaire:
    return Questionnaire(
        FLOW, details_form(turn.form), N_("draft.review_title"), N_("button.generate_draft")
    )


async def start(turn: Turn) -> list[Reply]:
    """/draft and the result's button: ask for the details once, else write the draft."""
    application = await queries.latest_submitted(turn.session, turn.user.id, turn.form.id)
    if application is None:
        apply = ((render.button(turn.t("button.apply"), MENU.data("apply")),),)
        return [Reply(turn.t("draft.needs_assessment"), apply)]
    data = await draft_input(turn.form, turn.session, application)
    assert application.id is not None
    if data.details or await queries.latest_draft(turn.session, application.id):
        return await _send_draft(turn, data)  # asked once already
    turn.conversation.flow = None
    choices = (
        (render.button(turn.t("button.fill_details"), BUTTONS.data("details")),),
        (render.button(turn.t("button.draft_now"), BUTTONS.data("now")),),
    )
    return [Reply(turn.t("draft.intro", count=len(data.details_form.questions)), choices)]


async def on_button(turn: Turn, action: str) -> list[Reply]:
    """draft:details (fill in or change the details), draft:now (write it as it is)."""
    application = await queries.latest_submitted(turn.session, turn.user.id, turn.form.id)
    if application is None:
        return stale(turn)
    if action == "now":
        return await _send_draft(turn, await draft_input(turn.form, turn.session, application))
    turn.conversation.application_id = application.id
    qn = questionnaire(turn)
    _, answers = await answers_of(turn, qn.form, application)
    return [proceed(turn, qn, application, answers)]


async def current(turn: Turn) -> Application | list[Reply]:
    """The details belong to a submitted application."""
    application = await current_application(turn)
    if application is None or application.status != ApplicationStatus.SUBMITTED:
        return [Reply(turn.t("hint.no_flow"))]
    return application


async def submit(turn: Turn, application: Application, answers: Answers) -> list[Reply]:
    return await _send_draft(turn, await draft_input(turn.form, turn.session, application))


async def draft_input(form: Form, session: AsyncSession, application: Application) -> DraftInput:
    """Everything the document is made from, read from the database."""
    assert application.id is not None
    rows = await queries.current_answers(session, application.id)
    stored = {qid: row.value for qid, row in rows.items()}
    extra = details_form(form)
    return DraftInput(
        form=form,
        details_form=extra,
        application=application,
        answers=decode_all(form, stored),
        details=decode_all(extra, stored),
        flags=await queries.flags_of(session, application.id),
        today=datetime.now(LOCAL_TIME).date(),  # the applicant's date, not UTC's
        typed=_as_typed(form, rows),
    )


def _as_typed(form: Form, rows: Mapping[str, StoredAnswer]) -> dict[str, str]:
    """Phone numbers as the applicant typed them (020-39001234): the stored value is the
    digits, which a document should not show."""
    return {
        qid: " ".join(row.raw_text.split())
        for qid, row in rows.items()
        if row.raw_text and form.has_question(qid) and form.question(qid).type == "phone"
    }


async def draft_for_application(
    session: AsyncSession, form: Form, application_id: int, locale: str | None
) -> tuple[Draft, bytes] | None:
    """The draft of one application, in the applicant's language unless one is given
    (for ``patentbot draft``); None when there is no such submitted application."""
    application = await session.get(Application, application_id)
    if application is None or application.status != ApplicationStatus.SUBMITTED:
        return None
    owner = await queries.get_user(session, application.user_id)
    t = translator(locale or (owner.locale if owner else DEFAULT))
    return await write_draft(session, await draft_input(form, session, application), t)


async def _send_draft(turn: Turn, data: DraftInput) -> list[Reply]:
    draft, content = await write_draft(turn.session, data, turn.t)
    caption = turn.t("draft.caption", version=draft.version)
    keyboard = ((render.button(turn.t("button.change_details"), BUTTONS.data("details")),),)
    text = turn.t("draft.sent", version=draft.version)
    if data.application.verdict == Verdict.NOT_ELIGIBLE:
        text = turn.t("draft.sent_not_eligible") + "\n\n" + text
    return [Reply(text, keyboard, document=Document(draft.filename, content, caption))]


async def write_draft(
    session: AsyncSession, data: DraftInput, t: Translator
) -> tuple[Draft, bytes]:
    """Render the document and record it; the same inputs keep the same version."""
    assert data.application.id is not None
    # In a thread: rendering takes a while, and meanwhile the event loop keeps sending
    # the replies of other users.
    content = await asyncio.to_thread(render_draft, data, t)
    mark = fingerprint(data, t.locale)
    latest = await queries.latest_draft(session, data.application.id)
    if latest is not None and latest.fingerprint == mark:
        return latest, content
    version = latest.version + 1 if latest else 1
    draft = Draft(
        application_id=data.application.id,
        version=version,
        locale=t.locale,
        template_version=template_version(),
        fingerprint=mark,
        filename=filename(t, data, version),
    )
    session.add(draft)
    await session.flush()
    return draft, content


COMMAND = Command("draft", N_("command.draft"), start)
