"""Listed conditions are conditions: only E2a and E2b say 原则上. A plain "no" to E1b
(R&D leading in its field) or "none" to E4 (IP management rules) disqualifies at once by
the applicant's own answer, with its clause and the way back to change the answer."""

from __future__ import annotations

import pytest

from forms.definition import Form
from handlers.kernel.router import Router
from locales import translator
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, answer, current_question, run_interview

t = translator("zh_CN")
NO_IP_RULES = t("ip_management.none")
WRITTEN_RULES = t("ip_management.written_rules")

# (question, the disqualifying answer, its clause, an answer that meets the condition)
CASES = [
    ("rd_leading", t("button.no"), "E1b", t("button.yes")),
    ("ip_management", NO_IP_RULES, "E4", WRITTEN_RULES),
]


Case = tuple[str, str, str, str]


@pytest.fixture(params=CASES, ids=[c[2] for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def chat(router: Router) -> Chat:
    """An applicant who has just started the interview."""
    chat = Chat(router, 1)
    await chat.send("/apply")
    return chat


async def _reach(chat: Chat, form: Form, qid: str) -> None:
    while (asked := current_question(form, "zh_CN", chat.text)) != qid:
        assert asked is not None, chat.text
        await answer(chat, form, asked, ELIGIBLE_ZH)


async def test_a_plain_no_disqualifies_at_once_and_can_be_taken_back(
    chat: Chat, form: Form, case: Case
) -> None:
    qid, no, clause, yes = case
    await _reach(chat, form, qid)
    await chat.press(no)
    notice = chat.text
    assert clause in notice and t("button.back") in notice  # the clause, the way back
    assert current_question(form, "zh_CN", notice) != qid  # the interview goes on
    await chat.press(t("button.back"))
    assert current_question(form, "zh_CN", chat.text) == qid
    await chat.press(yes)
    text = await run_interview(chat, form, ELIGIBLE_ZH)
    assert t("result.eligible") in text and clause not in text


async def test_the_verdict_of_a_plain_no_is_not_eligible(
    chat: Chat, form: Form, case: Case
) -> None:
    qid, no, clause, _ = case
    text = await run_interview(chat, form, {**ELIGIBLE_ZH, qid: no})
    assert t("result.not_eligible") in text
    reasons = text.split(t("result.heading.disqualify"))[1]
    assert clause in reasons.split("\n\n")[0]  # listed with the disqualifiers


async def test_the_evidence_of_a_leading_rd_level_is_left_to_the_reviewers(
    chat: Chat, form: Form
) -> None:
    """What the applicant types as evidence is not judged by the bot: any evidence with a
    "yes" leaves E1b met, and the text goes on to the application for the reviewers."""
    text = await run_interview(chat, form, {**ELIGIBLE_ZH, "rd_evidence": "暂无书面证明"})
    assert t("result.eligible") in text and "E1b" not in text
