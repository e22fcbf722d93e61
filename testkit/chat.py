"""Drive the bot the way a person does, through Router.handle: type, press, read."""

from __future__ import annotations

from collections.abc import Mapping

from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.kernel.types import Attachment, Button, Event, Reply
from locales import guess_locale, translator


class Chat:
    def __init__(self, router: Router, user_id: int, language_code: str | None = "zh-hans") -> None:
        self.router = router
        self.user_id = user_id
        self.language_code = language_code
        self.last: list[Reply] = []
        self.transcript: list[Reply] = []

    async def _handle(self, event: Event) -> list[Reply]:
        self.last = await self._replies(event)
        self.transcript += self.last
        return self.last

    async def _replies(self, event: Event) -> list[Reply]:
        """How the chat's events reach the router (a subclass may go as a transport does)."""
        return await self.router.handle(event)

    async def send(self, text: str, attachment: Attachment | None = None) -> list[Reply]:
        """Type a message; with an attachment, ``text`` is its caption."""
        event = Event.message(
            self.user_id,
            self.user_id,
            text,
            language_code=self.language_code,
            attachment=attachment,
        )
        return await self._handle(event)

    async def press(self, label: str) -> list[Reply]:
        """Press the button with this text (or callback data) on the newest keyboard."""
        return await self.press_data(self.find_button(label).data)

    async def press_data(self, data: str) -> list[Reply]:
        """Press a button with any data, on a keyboard or not (forged, or long gone)."""
        event = Event(
            self.user_id, self.user_id, callback_data=data, language_code=self.language_code
        )
        return await self._handle(event)

    def keyboard(self) -> list[Button]:
        for reply in reversed(self.transcript):
            if reply.buttons:
                return [b for row in reply.buttons for b in row]
        return []

    def find_button(self, label: str) -> Button:
        """On the messages just received first, then on older ones (still on screen)."""
        for reply in [*self.last, *reversed(self.transcript)]:
            for b in (b for row in reply.buttons for b in row):
                if label in (b.text, b.data):
                    return b
        raise AssertionError(f"no button {label!r}; buttons: {[b.text for b in self.keyboard()]}")

    @property
    def text(self) -> str:
        """The plain text of the last answer from the bot."""
        return "\n".join(plain(r.text) for r in self.last)


def question_texts(form: Form, locale: str) -> dict[str, str]:
    """Each question's text as the user reads it → question id."""
    from handlers.kernel.render import question_text

    t = translator(locale)
    return {plain(question_text(t, form, q)): q.id for q in form.questions}


def question_in(texts: Mapping[str, str], text: str) -> str | None:
    """Which of these questions (text → id) a message asks: the last one it mentions."""
    found = [(text.rfind(q), qid) for q, qid in texts.items() if q in text]
    return max(found)[1] if found else None


def current_question(form: Form, locale: str, text: str) -> str | None:
    """Which question the bot just asked (the last one mentioned in the text)."""
    return question_in(question_texts(form, locale), text)


async def answer(chat: Chat, form: Form, qid: str, answers: Mapping[str, str]) -> None:
    """Answer one question from ``answers``: typed text, a button's label, or for the
    cluster "group label/cluster label"."""
    given = answers[qid]
    if "/" in given and form.question(qid).groups:
        group, option = given.split("/", 1)
        await chat.press(group)
        await chat.press(option)
    elif any(b.text == given for b in chat.keyboard()):
        await chat.press(given)
    else:
        await chat.send(given)


async def run_interview(
    chat: Chat, form: Form, answers: Mapping[str, str], *, submit: bool = True
) -> str:
    """Answer every question the bot asks from ``answers``, then submit the review."""
    locale = guess_locale(chat.language_code)
    t = translator(locale)
    for _ in range(100):
        qid = current_question(form, locale, chat.text)
        if qid is None:
            break
        await answer(chat, form, qid, answers)
    assert plain(t("review.title")) in chat.text, chat.text
    if submit:
        await chat.press(t("button.submit"))
    return chat.text


async def fill_details(
    chat: Chat, details: Form, answers: dict[str, str | None], locale: str = "zh_CN"
) -> None:
    """Answer the details questionnaire; None presses 跳过."""
    while (qid := current_question(details, locale, chat.text)) is not None:
        answer = answers.get(qid)
        if answer is None:
            await chat.press(translator(locale)("button.skip"))
        elif any(b.text == answer for b in chat.keyboard()):
            await chat.press(answer)
        else:
            await chat.send(answer)
