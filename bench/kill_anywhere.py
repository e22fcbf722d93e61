"""Kill anywhere: SIGKILL the bot at random moments while users go through interviews,
draft generation and survey answers; after each restart every user must continue at the
same question, with no answer lost or doubled.

    .venv/bin/python -m bench.kill_anywhere [--kills 50] [--seed 1] [--json out.json]

The bot runs as in production (``python -m bot.cli``, testkit/bot_process.py's
``start_bot``), long-polling the fake Bot API server (testkit/fake_bot_api) on 127.0.0.1,
on a fresh SQLite file; aiogram and python-telegram-bot take turns. Users work all the
time, each as a person does: one message or press, then wait for the bot's answer (the
next question, the review, the result, the draft document, the survey's thanks). Three
go through interviews, one asks for its draft again and again, two answer a training
event's survey; each one that finishes is followed by a new user. Between kills the bot
runs a random 0.3–4 s; it stays down a random 0–1 s, while users keep writing.

A kill passes when, from it until the next kill, every user's next answer from the bot
is exactly the step that follows their last one: not the same question again (an answer
doubled, or lost and asked again), not a later one (an answer skipped), not nothing for
``--reply-timeout`` (a reply lost), not two documents for one request. One exception, by
design (handlers/kernel/router.py ``Router.sent``): the last message a user got before a restart
may come once more from the restarted bot, identical — it reached Telegram and the bot
died before recording so. Such a repeat is counted and reported, not failed; the same
step again in any other way still fails. At the end the database must hold, for every
user who finished, each of their answers exactly once. Every wait is bounded; the run
stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import col, func, select

from forms import engine
from forms.answers import parse
from forms.definition import Form, linked, programme
from handlers.training import events
from locales import translator
from models.db import connect
from models.tables import Answer, Application
from testkit.answers import ELIGIBLE_ZH
from testkit.bot_process import start_bot
from testkit.chat import question_in, question_texts
from testkit.fake_bot_api import BotMessage, FakeBotAPI, FakeUser
from testkit.telegram import MARKERS, TOKEN

t = translator("zh_CN")
REVIEW, RESULT, DOCUMENT, DRAFT_MENU = "<review>", "<result>", "<document>", "<draft menu>"
SURVEY_ANSWERS = {"comment": "讲得很清楚", "topics": "专利布局与挖掘"}


def interview_order(form: Form) -> list[str]:
    """The questions ELIGIBLE_ZH is asked, in order."""
    answers: dict[str, object] = {}
    order = []
    while (question := engine.next_question(form, answers)) is not None:  # type: ignore[arg-type]
        given = ELIGIBLE_ZH[question.id]
        typed = given.split("/", 1)[1] if question.groups else given  # a cluster: its label
        answers[question.id] = parse(question, typed).value
        order.append(question.id)
    return order


@dataclass
class Run:
    server: FakeBotAPI
    form: Form
    reply_timeout: float
    kill: int = 0  # the kill whose recovery is under way (0: before the first)
    failed: dict[int, list[str]] = field(default_factory=dict)  # kill → what went wrong
    finished: Counter[str] = field(default_factory=Counter)
    steps: Counter[str] = field(default_factory=Counter)
    done_users: dict[int, tuple[str, int]] = field(default_factory=dict)  # id → (kind, answers)
    stopping: bool = False
    next_id: int = 10_000
    restarts: list[float] = field(default_factory=list)  # when each new process was started
    last: dict[int, BotMessage] = field(default_factory=dict)  # each user's last step
    repeats: Counter[str] = field(default_factory=Counter)  # identical again after a restart
    document_copies: Counter[int] = field(default_factory=Counter)  # drafts: by user

    def repeated(self, user: FakeUser, message: BotMessage) -> bool:
        """Whether ``message`` is the user's last step again, identical, sent by a process
        started after the one that sent it: a reply sent again, by design."""
        last = self.last.get(user.id)
        if last is None or _content(last) != _content(message):
            return False
        return any(last.at < started < message.at for started in self.restarts)

    def fail(self, user: FakeUser, what: str, kill: int | None = None) -> None:
        kill = self.kill if kill is None else kill
        self.failed.setdefault(kill, []).append(f"user {user.id}: {what}")

    def new_user(self) -> FakeUser:
        self.next_id += 1
        return self.server.user(self.next_id, language_code="zh-hans")


class Lost(Exception):
    """The user's step went wrong (recorded); they give up and a new user starts."""


async def _next(
    run: Run, user: FakeUser, recognise: Callable[[BotMessage], str | None]
) -> tuple[str, BotMessage]:
    """The user's next recognised step (other messages, edits, notices skipped)."""
    since = run.kill  # a reply that never comes was lost by the next kill
    deadline = time.monotonic() + run.reply_timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = await user.next_message(timeout=left)
        except AssertionError:
            break
        if message.edited:
            continue
        step = recognise(message)
        if step is not None:
            return step, message
    last = user.format_transcript().splitlines()[-2:]
    what = f"no reply within {run.reply_timeout:.0f} s; the chat ended: {last}"
    run.fail(user, what, kill=min(since + 1, run.kill))
    raise Lost


def _content(message: BotMessage) -> tuple[object, ...]:
    """What a user sees of a message: its text, buttons and file."""
    document = message.document
    return (
        message.text,
        message.caption,
        json.dumps(message.params.get("reply_markup"), sort_keys=True),
        None if document is None else (document.filename, document.data),
    )


async def _expect(
    run: Run, user: FakeUser, recognise: Callable[[BotMessage], str | None], want: str
) -> BotMessage:
    step, message = await _next(run, user, recognise)
    # Where the step wanted looks like the last one (a draft asked for again, the same
    # version: the same file), a copy cannot be told from the answer: ``drafts`` counts.
    while step != want and run.repeated(user, message):
        run.repeats[step] += 1
        run.last[user.id] = message  # a 2nd copy needs a 2nd restart
        step, message = await _next(run, user, recognise)
    run.last[user.id] = message
    run.steps[want] += 1
    if step != want:
        last = user.format_transcript().splitlines()[-8:]
        run.fail(user, f"asked {step} after the step before {want}; the chat ended: {last}")
        raise Lost
    return message


def _recogniser(form: Form, extra: dict[str, str]) -> Callable[[BotMessage], str | None]:
    """A message → the step it is: one of ``extra`` (text in it → step), a document, the
    draft's menu, or the question of ``form`` it asks."""
    texts = question_texts(form, "zh_CN")

    def recognise(message: BotMessage) -> str | None:
        text = message.text or message.caption or ""
        for marker, step in extra.items():
            if marker in text:
                return step
        if message.document is not None:
            return DOCUMENT
        if "draft:now" in json.dumps(message.params.get("reply_markup", "")):
            return DRAFT_MENU
        return question_in(texts, text)

    return recognise


async def _answer(run: Run, user: FakeUser, form: Form, qid: str, given: str) -> None:
    """Type or press, as a person does; a button may come only after a restart."""
    question = form.question(qid)
    if "/" in given and question.groups:
        group, option = given.split("/", 1)
        pressed = await user.press(group, timeout=run.reply_timeout)
        # On that message, once edited (a copy of the question sent again meanwhile after
        # a restart shows the groups).
        await user.press(option, message_id=pressed.message_id, timeout=run.reply_timeout)
    elif question.type in ("yes_no", "choice"):
        await user.press(given, timeout=run.reply_timeout)
    else:
        await user.send(given)


async def interview(run: Run, user: FakeUser) -> None:
    form, order = run.form, interview_order(run.form)
    results = {t(k): RESULT for k in MARKERS[1:]}
    recognise = _recogniser(form, {t("review.title"): REVIEW, **results})
    await user.send("/apply")
    await _expect(run, user, recognise, order[0])
    for qid, following in zip(order, [*order[1:], REVIEW], strict=True):
        await _answer(run, user, form, qid, ELIGIBLE_ZH[qid])
        await _expect(run, user, recognise, following)
    await user.press(t("button.submit"), timeout=run.reply_timeout)
    await _expect(run, user, recognise, RESULT)
    run.done_users[user.id] = ("interview", len(order))


async def drafts(run: Run, user: FakeUser, requests: int) -> None:
    """An assessed user asks for their draft ``requests`` times: one document each, and
    at most one more copy for each restart meanwhile (the same version is the same file,
    so the copy sent again cannot be told from the next request's answer)."""
    await interview(run, user)
    recognise = _recogniser(run.form, {})
    restarts = len(run.restarts)
    await user.send("/draft")
    await _expect(run, user, recognise, DRAFT_MENU)
    await user.press("draft:now", timeout=run.reply_timeout)
    for asked in range(1, requests + 1):
        if asked > 1:
            await user.send("/draft")
        await _expect(run, user, recognise, DOCUMENT)
        documents = sum(1 for m in user.transcript if m.document is not None)
        copies = documents - asked  # one came twice: it shows by the next request at the latest
        if copies > len(run.restarts) - restarts:
            run.fail(user, f"{documents} documents for {asked} requests")
            raise Lost
        run.document_copies[user.id] = copies
        if run.stopping:
            break


async def survey(run: Run, user: FakeUser, code: str) -> None:
    form = linked(run.form, "survey")
    extra = {
        t("survey.review_title"): REVIEW,
        t("survey.thanks", event="").split("{")[0][:8]: RESULT,
    }
    recognise = _recogniser(form, extra)
    await user.send(f"/start survey-{code}")
    order = [q.id for q in form.questions]
    await _expect(run, user, recognise, order[0])
    for qid, following in zip(order, [*order[1:], REVIEW], strict=True):
        given = SURVEY_ANSWERS.get(qid, "满意")
        await _answer(run, user, form, qid, given)
        await _expect(run, user, recognise, following)
    await user.press(t("button.survey_submit"), timeout=run.reply_timeout)
    await _expect(run, user, recognise, RESULT)
    run.done_users[user.id] = ("survey", len(order))


async def worker(run: Run, kind: str, code: str) -> None:
    while not run.stopping:
        user = run.new_user()
        try:
            if kind == "interview":
                await interview(run, user)
            elif kind == "draft":
                await drafts(run, user, requests=1_000)
            else:
                await survey(run, user, code)
            run.finished[kind] += 1
        except Lost:
            continue
        except Exception as e:  # the bench's own failure: said, never swallowed
            run.fail(user, f"{type(e).__name__}: {e}"[:300])


async def stored_answers(database_url: str, users: dict[int, tuple[str, int]]) -> list[str]:
    """Every finished user's answers, each stored once: what is not so."""
    engine_, sessions = await connect(database_url)
    wrong = []
    try:
        async with sessions() as session:
            rows = (
                await session.exec(
                    select(Application.user_id, Answer.question_id, func.count())
                    .join(Application, Answer.application_id == Application.id)  # type: ignore[arg-type]
                    .group_by(col(Application.user_id), col(Answer.question_id))
                )
            ).all()
        per_user: dict[int, list[int]] = {}
        for user_id, _qid, count in rows:
            per_user.setdefault(user_id, []).append(count)
        for user_id, (kind, answered) in users.items():
            counts = per_user.get(user_id, [])
            if len(counts) != answered or any(c != 1 for c in counts):
                wrong.append(f"{kind} user {user_id}: {len(counts)} questions, counts {counts}")
    finally:
        await engine_.dispose()
    return wrong


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(args.seed)
    form = programme("nansha-2024")
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'bot.db'}"
        engine_, sessions = await connect(database_url)
        async with sessions() as session:
            event = await events.create_event(
                session, form, title="培训", event_date=date(2030, 1, 8), place="南沙",
                closes_at=None, created_by=0,
            )  # fmt: skip
            await session.commit()
            code = event.code
        await engine_.dispose()
        async with FakeBotAPI(token=TOKEN) as server:
            run = Run(server, form, args.reply_timeout)
            frameworks = ["ptb", "aiogram"]
            bot = await start_bot(server, database_url, Path(folder), frameworks[0],
                                  start_timeout=args.start_timeout)  # fmt: skip
            kinds = ["interview"] * 3 + ["draft"] + ["survey"] * 2
            workers = [asyncio.create_task(worker(run, kind, code)) for kind in kinds]
            started = time.monotonic()
            try:
                for kill in range(1, args.kills + 1):
                    await asyncio.sleep(rng.uniform(0.3, 4.0))
                    bot.send_signal(signal.SIGKILL)
                    await bot.wait()
                    run.kill = kill
                    await asyncio.sleep(rng.uniform(0.0, 1.0))
                    run.restarts.append(time.monotonic())
                    bot = await start_bot(server, database_url, Path(folder),
                                          frameworks[kill % 2],
                                          start_timeout=args.start_timeout)  # fmt: skip
                    print(f"kill {kill}: {sum(run.steps.values())} steps so far", flush=True)
                await asyncio.sleep(args.reply_timeout)  # the last kill's recovery
            finally:
                run.stopping = True
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                if bot.returncode is None:
                    bot.send_signal(signal.SIGKILL)
                    await bot.wait()
            elapsed = time.monotonic() - started
        stored = await stored_answers(database_url, run.done_users)
    passed = sum(1 for kill in range(1, args.kills + 1) if kill not in run.failed)
    return {
        "kills": args.kills,
        "passed": passed,
        "failures": {str(k): v for k, v in sorted(run.failed.items())},
        "stored_wrong": stored,
        "finished": dict(run.finished),
        "steps_checked": sum(run.steps.values()),
        "steps": dict(run.steps),  # by what the step was: a question, <document>, …
        # The last step again after a restart, identical; for drafts, copies counted.
        "repeats": {**run.repeats, DOCUMENT: sum(run.document_copies.values())},
        "seconds": round(elapsed, 1),
        "seed": args.seed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reply-timeout", type=float, default=120.0)
    parser.add_argument("--start-timeout", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = asyncio.run(main_async(args))
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    ok = figures["passed"] == args.kills and not figures["stored_wrong"]
    return 0 if ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
