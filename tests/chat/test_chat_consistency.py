"""What the chat shows is consistent: the progress counts only the questions this
applicant will be asked, every date is the applicant's (UTC+8), and a call whose
application period is over says so while results and drafts stay available."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from forms.definition import FORMS_DIR, Form, load_form
from handlers.kernel.context import Context
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from models.db import connect
from models.tables import Application
from testkit.answers import ELIGIBLE_ZH, eligible_answers
from testkit.chat import Chat, current_question, run_interview
from tests.chat.test_survey import answer_survey, new_event

t = translator("zh_CN")
HEADER = re.compile(r"第 (\d+)/(\d+) 题")


def headers(chat: Chat) -> list[tuple[int, int]]:
    """Every "第 x/N 题" the applicant was shown, in order."""
    return [(int(x), int(n)) for r in chat.transcript for x, n in HEADER.findall(plain(r.text))]


OUTSIDE_CLUSTERS = f"{t('cluster_group.none')}/{t('cluster.none')}"
TWO_JOINT = {
    "joint_count": "2",
    "joint1_kind": t("joint_kind.university"),
    "joint1_name": "华南理工大学",
    "joint2_kind": t("joint_kind.research_institute"),
    "joint2_name": "广东省科学院",
}


@pytest.mark.parametrize(
    ("changes", "asked"),
    [({}, 25), ({"cluster": OUTSIDE_CLUSTERS}, 24), (TWO_JOINT, 29)],
    ids=["eligible", "no-sub-field", "two-joint-applicants"],
)
async def test_the_progress_never_shows_a_question_the_applicant_will_not_meet(
    router: Router, form: Form, changes: dict[str, str], asked: int
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await run_interview(chat, form, {**ELIGIBLE_ZH, **changes}, submit=False)
    shown = headers(chat)
    assert max(n for _, n in shown) == asked and shown[-1] == (asked, asked)
    assert all(x <= n for x, n in shown)


@pytest.mark.parametrize(("language_code", "locale"), [("zh-hans", "zh_CN"), ("en", "en")])
async def test_a_submission_is_dated_in_beijing_time(
    router: Router, form: Form, language_code: str, locale: str
) -> None:
    lt = translator(locale)
    chat = Chat(router, 1, language_code=language_code)
    await chat.send("/apply")
    await run_interview(chat, form, eligible_answers(locale))
    async with router.context.sessions() as session:
        application = (await session.exec(select(Application))).one()
        # 06:18 on 2 December in Beijing is still 1 December in UTC.
        application.submitted_at = datetime(2026, 12, 1, 22, 18, tzinfo=UTC)
        session.add(application)
        await session.commit()
    await chat.send("/apply")
    assert lt.date(date(2026, 12, 2)) in chat.text
    assert lt.date(date(2026, 12, 1)) not in chat.text


async def test_a_survey_answer_is_dated_in_beijing_time(router: Router, form: Form) -> None:
    event = await new_event(router, form)
    chat = Chat(router, 2)
    await chat.send(f"/survey {event.code}")
    await answer_survey(chat, form, "满意")
    async with router.context.sessions() as session:
        response = (await session.exec(select(Application))).one()
        response.submitted_at = datetime(2026, 12, 1, 22, 18, tzinfo=UTC)
        session.add(response)
        await session.commit()
    await chat.send(f"/survey {event.code}")
    assert t.date(date(2026, 12, 2)) in chat.text and t.date(date(2026, 12, 1)) not in chat.text


def call_with_period(tmp_path: Path, opens: str, closes: str) -> Form:
    """The 2024 call as a test programme file that gives an application period."""
    shipped = (FORMS_DIR / "programmes" / "nansha-2024.yaml").read_text(encoding="utf-8")
    path = tmp_path / "nansha-2024-period.yaml"
    path.write_text(
        f"{shipped}\napplication_period: {{opens: {opens}, closes: {closes}}}\n", "utf-8"
    )
    return load_form(path)


def closed_call(tmp_path: Path) -> tuple[Form, str]:
    """The call with a period that closed on 2024-07-15, and what the bot then says."""
    closes = date(2024, 7, 15)
    text = t("interview.closed", opens=t.date(date(2024, 6, 1)), closes=t.date(closes))
    return call_with_period(tmp_path, "2024-06-01", closes.isoformat()), text


async def test_an_open_period_changes_nothing(database_url: str, tmp_path: Path) -> None:
    form = call_with_period(tmp_path, "2020-01-01", "2999-12-31")
    engine, sessions = await connect(database_url)
    chat = Chat(Router(Context(sessions=sessions, form=form)), 1)
    await chat.send("/apply")
    assert current_question(form, "zh_CN", chat.text) == "enterprise_name"
    await engine.dispose()


async def test_after_the_period_start_does_not_ask_a_question_it_will_refuse(
    router: Router, form: Form, database_url: str, tmp_path: Path
) -> None:
    closed_form, closed_text = closed_call(tmp_path)
    halfway = Chat(router, 3)
    await halfway.send("/apply")
    await halfway.send(ELIGIBLE_ZH["enterprise_name"])
    engine, sessions = await connect(database_url)
    halfway.router = Router(Context(sessions=sessions, form=closed_form))
    # Back after the close: /start and a change of language both say so, instead of
    # asking the next question, whose answer would then be refused.
    await halfway.send("/start")
    assert plain(closed_text) in halfway.text
    assert current_question(closed_form, "zh_CN", halfway.text) is None
    await halfway.send("/language")
    await halfway.press("English")
    assert current_question(closed_form, "en", halfway.text) is None
    await engine.dispose()


async def test_after_the_period_apply_says_the_call_is_closed(
    router: Router, form: Form, database_url: str, tmp_path: Path
) -> None:
    closed_form, closed_text = closed_call(tmp_path)
    # One applicant submitted and started a second version; another is halfway through.
    submitted, halfway = Chat(router, 1), Chat(router, 2)
    await submitted.send("/apply")
    await run_interview(submitted, form, ELIGIBLE_ZH)
    await submitted.press(t("button.restart"))
    await halfway.send("/apply")
    await halfway.send(ELIGIBLE_ZH["enterprise_name"])
    # The call closes: the same database, the programme file with its period.
    engine, sessions = await connect(database_url)
    closed = Router(Context(sessions=sessions, form=closed_form))
    submitted.router = halfway.router = closed
    await halfway.send(ELIGIBLE_ZH["uscc"])  # an answer typed after the close is not taken
    assert halfway.text == plain(closed_text)
    for chat in (submitted, halfway):
        await chat.send("/apply")
        assert chat.text == plain(closed_text)
    await submitted.press(t("button.restart"))  # a button still on screen
    assert submitted.text == plain(closed_text)
    # The submitted result and its draft stay available.
    await submitted.send("/apply")
    await submitted.press(t("button.show_result"))
    assert t("result.eligible") in submitted.text
    await submitted.send("/draft")
    await submitted.press(t("button.draft_now"))
    assert any(r.document is not None for r in submitted.last)
    await engine.dispose()
