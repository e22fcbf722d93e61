"""The simulated people of bench/interview_load.py: an applicant who answers the
interview as a person does (typed text or a press, waiting for each next question), and
a user who sends the echo bot messages one after another."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.phase import PhaseResult, next_output
from testkit.fake_bot_api import BotMessage, FakeUser

LANGUAGE = "zh-hans"  # the applicants' Telegram language: Simplified Chinese


class Interview:
    """What a simulated applicant knows: the questions' texts and the answers to give."""

    def __init__(self) -> None:
        from forms.definition import programme
        from locales import guess_locale
        from testkit.answers import ELIGIBLE_ZH
        from testkit.chat import question_texts

        self.form = programme("nansha-2024")
        self.answers = dict(ELIGIBLE_ZH)
        self.texts = question_texts(self.form, guess_locale(LANGUAGE))

    def question_in(self, message: BotMessage) -> str | None:
        """Which question a message asks (the last one its text mentions)."""
        from testkit.chat import question_in

        return question_in(self.texts, message.text or "")


async def interview_user(
    interview: Interview,
    user: FakeUser,
    questions: int,
    go: asyncio.Event,
    ready: Callable[[], None],
    result: PhaseResult,
    timeout: float,
) -> None:
    def new_question(m: BotMessage) -> bool:
        return not m.edited and interview.question_in(m) is not None

    def edited_question(m: BotMessage) -> bool:
        return m.edited and interview.question_in(m) is not None

    try:
        await user.send("/apply")
        message = await next_output(user, new_question, timeout)
    finally:
        ready()
    await go.wait()
    qid = interview.question_in(message)
    for _ in range(questions):
        assert qid is not None
        question = interview.form.question(qid)
        answer = interview.answers[qid]
        if question.groups and "/" in answer:
            group, option = answer.split("/", 1)
            started = time.perf_counter()
            await user.press(group)
            message = await next_output(user, lambda m: True, timeout)
            elapsed = time.perf_counter() - started
            if not edited_question(message):
                raise AssertionError(f"group press answered with: {message.text!r}")
            result.record("group press (edit)", elapsed)
            started = time.perf_counter()
            await user.press(option)
            kind = "button press"
        elif any(answer == text for row in message.buttons for text in row):
            started = time.perf_counter()
            await user.press(answer)
            kind = "button press"
        else:
            started = time.perf_counter()
            await user.send(answer)
            kind = "typed answer"
        message = await next_output(user, lambda m: not m.edited, timeout)
        elapsed = time.perf_counter() - started
        following = interview.question_in(message)
        if following is None:  # e.g. "something went wrong": a person would type again
            raise AssertionError(f"reply without a question: {message.text!r}")
        result.record(kind, elapsed)
        result.questions += 1
        if following == qid:
            raise AssertionError(f"user {user.id}: {qid} asked again: {message.text!r}")
        qid = following


async def _timed_messages(
    user: FakeUser,
    texts: list[str],
    answered: Callable[[str], Callable[[BotMessage], bool]],
    kind: str,
    result: PhaseResult,
    timeout: float,
) -> None:
    """Send each text, one after another, timing each until the answer ``answered`` knows."""
    for text in texts:
        started = time.perf_counter()
        await user.send(text)
        await next_output(user, answered(text), timeout)
        result.record(kind, time.perf_counter() - started)
        result.questions += 1


def any_new(_text: str) -> Callable[[BotMessage], bool]:
    return lambda m: not m.edited


def echo_of(text: str) -> Callable[[BotMessage], bool]:
    return lambda m: not m.edited and m.text == text


async def free_text_user(
    user: FakeUser,
    messages: int,
    go: asyncio.Event,
    ready: Callable[[], None],
    result: PhaseResult,
    timeout: float,
) -> None:
    """A user outside any questionnaire who types text: patentbot answers each message
    with one (how to start), one sendMessage, as the echo bot does. /start first, untimed,
    so that the timed messages are a known user's, not a first contact."""
    try:
        await user.send("/start")
        await next_output(user, any_new(""), timeout)
    finally:
        ready()
    await go.wait()
    texts = [f"你好 {i}" for i in range(messages)]
    await _timed_messages(user, texts, any_new, "free text", result, timeout)


async def echo_user(
    user: FakeUser,
    messages: int,
    go: asyncio.Event,
    ready: Callable[[], None],
    result: PhaseResult,
    timeout: float,
) -> None:
    ready()
    await go.wait()
    texts = [f"echo {user.id} #{i}" for i in range(messages)]
    await _timed_messages(user, texts, echo_of, "echo", result, timeout)


# ---------------------------------------------------------------------------- main
