"""The user's own settings and data: /language, /mydata, /delete."""

from __future__ import annotations

import json
from collections import Counter

from forms.definition import Form, admin_form, linked
from handlers.kernel import flows, menu, render
from handlers.kernel.commands import Buttons, Command
from handlers.kernel.context import Turn
from handlers.kernel.types import Document, Reply
from handlers.training.service import scales, survey_form
from locales import LANGUAGE_NAMES, N_, SUPPORTED, Translator, translator
from models import queries
from models.tables import Flow

LANGUAGE = Buttons("lang")
DELETE = Buttons("delete")


async def choose_language(turn: Turn) -> list[Reply]:
    buttons = [render.button(LANGUAGE_NAMES[code], LANGUAGE.data(code)) for code in SUPPORTED]
    return [Reply(turn.t("language.choose"), (tuple(buttons),))]


async def on_language(turn: Turn, code: str) -> list[Reply]:
    """The language chosen; then where they were, or the menu, in the new language."""
    changed = set_language(turn, code)
    return [*changed, *(await flows.resume(turn) or menu.start(turn, False))]


def set_language(turn: Turn, code: str) -> list[Reply]:
    if code not in SUPPORTED:
        return [Reply(turn.t("error.stale_button"))]
    turn.user.locale = code
    turn.session.add(turn.user)
    turn.t = translator(code)
    return [Reply(turn.t("language.set", language=LANGUAGE_NAMES[code]), edit=True)]


async def my_data(turn: Turn) -> list[Reply]:
    """Everything stored about the user, as a JSON file they can keep."""
    session, user = turn.session, turn.user
    applications = []
    for application in await queries.applications_of(session, user.id):
        assert application.id is not None
        applications.append(
            {
                **application.model_dump(mode="json"),
                "answers": [
                    a.model_dump(mode="json")
                    for a in await queries.answer_history(session, application.id)
                ],
                "flags": [
                    f.model_dump(mode="json")
                    for f in await queries.flags_of(session, application.id)
                ],
            }
        )
    data = {"user": user.model_dump(mode="json"), "applications": applications}
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    document = Document(f"patentbot-mydata-{user.id}.json", content, turn.t("mydata.caption"))
    kinds = Counter(_form_kind(turn.form, a["programme_id"]) for a in applications)
    forms = [_forms_text(turn.t, kind, count) for kind, count in kinds.items()]
    if forms:
        summary = turn.t("mydata.summary", forms=turn.t.list(forms))
    else:
        summary = turn.t("mydata.summary_account_only")
    return [Reply(summary, document=document)]


def _form_kind(programme: Form, form_id: str) -> str:
    """What a filled-in form is for: the call's assessment unless it is one of the others."""
    kinds = {
        linked(programme, "draft_details").id: "details",
        linked(programme, "survey").id: "survey",
        admin_form("event").id: "event",
    }
    return kinds.get(form_id, "assessment")


def _forms_text(t: Translator, kind: str, count: int) -> str:
    """ "2 份活动满意度问卷": a count of one kind of form, in words (the keys spelt out for
    extraction)."""
    match kind:
        case "details":
            return t.plural("mydata.kind.details", "mydata.kind.details.plural", count)
        case "survey":
            return t.plural("mydata.kind.survey", "mydata.kind.survey.plural", count)
        case "event":
            return t.plural("mydata.kind.event", "mydata.kind.event.plural", count)
    return t.plural("mydata.kind.assessment", "mydata.kind.assessment.plural", count)


async def ask_delete(turn: Turn) -> list[Reply]:
    turn.conversation.flow = Flow.CONFIRM_DELETE
    keyboard = (
        (
            render.button(turn.t("button.delete_confirm"), DELETE.data("yes")),
            render.button(turn.t("button.delete_cancel"), DELETE.data("no")),
        ),
    )
    return [Reply(turn.t("delete.confirm"), keyboard)]


async def on_delete(turn: Turn, answer: str) -> list[Reply]:
    confirmed = answer == "yes"
    if turn.conversation.flow != Flow.CONFIRM_DELETE:
        return [Reply(turn.t("error.stale_button"))]
    if not confirmed:
        turn.conversation.flow = None
        return [Reply(turn.t("delete.cancelled"), edit=True)]
    # The scores of their survey answers keep counting in the events' satisfaction rates.
    scores = frozenset(q.id for q in scales(survey_form(turn.form)))
    sessions, user_id = turn.context.sessions, turn.user.id

    async def erase() -> None:
        # After the turn's commit, in a transaction of its own (the router still holds the
        # user's lock): the turn writes its user and conversation, and this removes them.
        # Should it fail, the update fails and the user may confirm again.
        async with sessions() as session:
            await queries.delete_user(session, user_id, scores)
            await session.commit()

    turn.after_commit(erase)
    turn.gone = True
    return [Reply(turn.t("delete.done"), edit=True)]


LANGUAGE_COMMAND = Command("language", N_("command.language"), choose_language)
MYDATA_COMMAND = Command("mydata", N_("command.mydata"), my_data)
DELETE_COMMAND = Command("delete", N_("command.delete"), ask_delete)
