"""The user's own settings and data: /language, /mydata, /delete."""

from __future__ import annotations

import json

from handlers import render
from handlers.context import Turn
from handlers.survey import survey_form
from handlers.survey_report import scales
from handlers.types import Document, Reply
from locales import LANGUAGE_NAMES, SUPPORTED, translator
from models import queries


def choose_language(turn: Turn) -> list[Reply]:
    buttons = [render.button(LANGUAGE_NAMES[code], f"lang:{code}") for code in SUPPORTED]
    return [Reply(turn.t("language.choose"), (tuple(buttons),))]


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
    summary = turn.t.plural("mydata.summary", "mydata.summary.plural", len(applications))
    return [Reply(summary, document=document)]


def ask_delete(turn: Turn) -> list[Reply]:
    turn.conversation.flow = "confirm_delete"
    keyboard = (
        (
            render.button(turn.t("button.delete_confirm"), "delete:yes"),
            render.button(turn.t("button.delete_cancel"), "delete:no"),
        ),
    )
    return [Reply(turn.t("delete.confirm"), keyboard)]


async def delete(turn: Turn, confirmed: bool) -> list[Reply]:
    if turn.conversation.flow != "confirm_delete":
        return [Reply(turn.t("error.stale_button"))]
    if not confirmed:
        turn.conversation.flow = None
        return [Reply(turn.t("delete.cancelled"), edit=True)]
    # The scores of their survey answers keep counting in the events' satisfaction rates.
    scores = frozenset(q.id for q in scales(survey_form(turn.form)))
    await queries.delete_user(turn.session, turn.user.id, scores)
    # The rows are gone; the loaded objects must not be flushed back.
    turn.session.expunge(turn.user)
    turn.session.expunge(turn.conversation)
    return [Reply(turn.t("delete.done"), edit=True)]
