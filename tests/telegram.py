"""Drive the real bot over the fake Bot API server the way a Telegram user does."""

from __future__ import annotations

from collections.abc import Mapping

from forms.definition import Form
from locales import translator
from tests.chat import current_question
from tests.fake_bot_api import FakeUser

# Every transport of the contract suite (tests/test_e2e_telegram.py, tests/test_restart.py).
FRAMEWORKS = ("aiogram", "ptb")

MARKERS = ("review.title", "result.eligible", "result.eligible_with_points", "result.not_eligible")


async def next_step(user: FakeUser, form: Form, locale: str, timeout: float = 10) -> str:
    """Read the bot's messages until it asks something (a question, the review, a result)."""
    t = translator(locale)
    markers = [t(key) for key in MARKERS]
    while True:
        message = await user.next_message(timeout=timeout)
        text = message.text or ""
        if message.edited:
            continue
        if current_question(form, locale, text) or any(m in text for m in markers):
            return text


async def telegram_interview(
    user: FakeUser, form: Form, locale: str, answers: Mapping[str, str], first: str
) -> str:
    """From the first question's text, answer everything and submit; returns the result."""
    t = translator(locale)
    text = first
    while (qid := current_question(form, locale, text)) is not None:
        answer = answers[qid]
        if "/" in answer and form.question(qid).groups:
            group, option = answer.split("/", 1)
            await user.press(group)
            await user.next_message()  # the same message, edited to show the group's clusters
            await user.press(option)
        elif form.question(qid).type in ("yes_no", "choice"):
            await user.press(answer)
        else:
            await user.send(answer)
        text = await next_step(user, form, locale)
    assert t("review.title") in text, text
    await user.press(t("button.submit"))
    return await next_step(user, form, locale)
