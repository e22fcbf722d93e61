"""A form's buttons are one more family of the registry: each form's say which form they
answer, an admin's form checks the admin before anything of it runs, and the buttons sent
before (``a:<question>:<value>``, ``submit:<flow>``) still answer — or are stale, never an
error. What waits between two messages (``Conversation.pending``) is read by its kind."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from forms.definition import Form, admin_form
from handlers.applicant.draft import details_form
from handlers.kernel import pending, registry, render
from handlers.kernel.pending import BroadcastDraft, PendingAnswer
from handlers.kernel.router import Router
from handlers.questionnaire.buttons import FORM_BUTTONS
from handlers.training.survey import survey_form
from locales import translator
from models import queries
from models.tables import Answer, Conversation, Flow, TrainingEvent
from testkit.answers import eligible_answers
from testkit.chat import Chat, answer, current_question
from tests.chat.test_registry import snapshot

t = translator("zh_CN")
ADMIN, FORMER_ADMIN = 999, 1007


def test_every_family_has_its_own_prefix_and_admin_forms_are_admin_families() -> None:
    prefixes = [b.prefix for b, _ in registry.BUTTONS]
    assert len(prefixes) == len(set(prefixes))
    for flow in (declared.name for declared in registry.FLOWS if declared.admin):
        assert flow not in FORM_BUTTONS or FORM_BUTTONS[flow].admin, flow
    assert not FORM_BUTTONS[Flow.INTERVIEW].admin


def test_every_form_s_buttons_fit_telegram_s_64_bytes(form: Form) -> None:
    """The family's prefix made them longer: ``render.button`` refuses any over 64."""
    forms = {
        Flow.INTERVIEW: form,
        Flow.DETAILS: details_form(form),
        Flow.SURVEY: survey_form(form),
        Flow.EVENT_SETUP: admin_form("event"),
    }
    for flow, shown in forms.items():
        family, skipped = FORM_BUTTONS[flow], dict.fromkeys(q.id for q in shown.questions)
        for q in shown.questions:
            for group in (None, *(g.id for g in q.groups)):
                render.question_reply(t, shown, q, skipped, family, group=group)
        questions = list(shown.questions)
        render.review_reply(t, shown, questions, skipped, "review.title", "button.submit", family)


async def at(router: Router, form: Form, target: str, user_id: int = 1) -> Chat:
    """A chat at the interview's question ``target``."""
    chat = Chat(router, user_id)
    await chat.send("/apply")
    answers = eligible_answers("zh_CN")
    while (qid := current_question(form, "zh_CN", chat.text)) != target:
        assert qid is not None, chat.text
        await answer(chat, form, qid, answers)
    return chat


async def test_the_interview_s_buttons_say_their_form(router: Router, form: Form) -> None:
    chat = await at(router, form, "in_nansha")
    assert [b.data for b in chat.keyboard()] == [
        "qi:a:in_nansha:1",
        "qi:a:in_nansha:0",
        "qi:back:in_nansha",
    ]


async def test_a_button_sent_before_answers_as_the_new_one_does(router: Router, form: Form) -> None:
    new, old = await at(router, form, "in_nansha", 1), await at(router, form, "in_nansha", 2)
    await new.press("是")
    await old.press_data("a:in_nansha:1")  # still on the screen from before a deploy
    assert old.text == new.text
    assert current_question(form, "zh_CN", old.text) == "cluster"
    await old.press_data("back:cluster")
    assert current_question(form, "zh_CN", old.text) == "in_nansha"
    await old.press_data("keep:in_nansha")
    assert current_question(form, "zh_CN", old.text) == "cluster"
    await old.press_data("submit:details")  # another form's review: not this one's
    assert old.text == t("error.stale_button")


async def test_a_form_s_button_pressed_after_leaving_it_is_stale(
    router: Router, form: Form
) -> None:
    chat = await at(router, form, "in_nansha")
    await chat.send("/cancel")
    before = await snapshot(router)
    for data in ("qi:a:in_nansha:1", "a:in_nansha:1", "qs:a:in_nansha:1", "qi:nonsense", "qi"):
        await chat.press_data(data)
        assert chat.text == t("error.stale_button"), data
    assert await snapshot(router) == before


async def setup_at_review(router: Router) -> Chat:
    """A colleague made an admin, at the review of a new event's setup."""
    await Chat(router, ADMIN).send(f"/admins add {FORMER_ADMIN}")
    colleague = Chat(router, FORMER_ADMIN)
    await colleague.send("/event")
    await colleague.press(t("button.event_new"))
    for typed in ("专利培育培训会", "2024-10-08", "南沙"):
        await colleague.send(typed)
    await colleague.press(t("button.skip"))
    assert all(b.data.startswith("qe:") for b in colleague.keyboard())
    return colleague


async def test_an_event_setup_is_an_admin_s_and_its_buttons_too(router: Router) -> None:
    colleague = await setup_at_review(router)
    await Chat(router, ADMIN).send(f"/admins remove {FORMER_ADMIN}")
    before = await snapshot(router)
    for data in ("qe:submit", "qe:edit:title", "qe:a:title:x", "qe:confirm:yes", "qe:back:place"):
        await colleague.press_data(data)
        assert colleague.text == t("error.stale_button"), data
    for data in ("submit:event_setup", "edit:title", "skip:closes_at"):  # sent before
        await colleague.press_data(data)
        assert colleague.text == t("error.stale_button"), data
    assert await snapshot(router) == before
    async with router.context.sessions() as session:
        assert (await session.exec(select(TrainingEvent))).all() == []


async def test_an_admin_creates_the_event_from_its_review(router: Router) -> None:
    colleague = await setup_at_review(router)
    await colleague.press(t("button.event_create"))
    async with router.context.sessions() as session:
        event = (await session.exec(select(TrainingEvent))).one()
    assert event.title == "专利培育培训会" and event.created_by == FORMER_ADMIN


async def stored_pending(router: Router, user_id: int) -> Any:
    async with router.context.sessions() as session:
        return (await session.get(Conversation, user_id)).pending  # type: ignore[union-attr]


async def test_a_reading_waiting_from_before_a_deploy_is_confirmed(
    router: Router, form: Form
) -> None:
    chat = await at(router, form, "revenue_y1")
    await chat.send("1 8 2 0 0")
    assert [b.data for b in chat.keyboard()] == ["qi:confirm:yes", "qi:confirm:no"]
    assert (await stored_pending(router, 1))["kind"] == "answer"
    async with router.context.sessions() as session:  # as it was stored before: no kind
        conversation = await queries.conversation(session, 1)
        conversation.pending = {"question": "revenue_y1", "value": "18200", "raw": "1 8 2 0 0"}
        session.add(conversation)
        await session.commit()
    await chat.press_data("confirm:yes")
    assert current_question(form, "zh_CN", chat.text) == "revenue_y2"
    async with router.context.sessions() as session:
        rows = (await session.exec(select(Answer).where(Answer.question_id == "revenue_y1"))).all()
    assert [r.value for r in rows] == ["18200"]


async def test_one_feature_never_reads_another_s_pending_as_its_own(router: Router) -> None:
    admin = Chat(router, ADMIN)
    await admin.send("/broadcast")
    await admin.send("培训通知")
    async with router.context.sessions() as session:
        conversation = await queries.conversation(session, ADMIN)
        draft = pending.get(conversation, BroadcastDraft)
        assert draft is not None and draft.step == "audience"
        assert pending.get(conversation, PendingAnswer) is None
        conversation.pending = {"step": "compose", "message": None, "audience": None}
        assert pending.get(conversation, BroadcastDraft) == BroadcastDraft()  # no kind: old
        conversation.pending = {"kind": "answer", "step": "compose"}  # a kind, not its fields
        assert pending.read(conversation) is None
