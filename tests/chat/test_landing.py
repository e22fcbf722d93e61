"""The pages a browser shows before its visitor has done anything (bot/web.py serves them
for a GET, which stores nothing): the welcome, and an event's survey page whose button
starts the survey — the first answer is what makes a visitor."""

from __future__ import annotations

from datetime import date

from forms.definition import Form
from handlers.kernel import menu
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.training import events, survey
from locales import translator
from testkit.chat import Chat

ZH = translator("zh_CN")


def test_the_welcome_has_the_privacy_notice_and_the_menu(form: Form) -> None:
    shown = menu.welcome(ZH, form)
    assert plain(ZH("privacy.notice_web")) in plain(shown.text)
    assert shown.buttons[0][0].data == "menu:apply"


async def test_a_survey_page_starts_the_survey_with_its_button(router: Router, form: Form) -> None:
    async with router.context.sessions() as session:
        event = await events.create_event(
            session, form, title="专利导航培训", event_date=date(2024, 10, 8), place="南沙",
            closes_at=None, created_by=999,
        )  # fmt: skip
        await session.commit()
    page = survey.landing(ZH, event, event.code)
    assert "专利导航培训" in plain(page.text) and plain(ZH("privacy.notice_survey")) in plain(
        page.text
    )
    attendee = Chat(router, 8001)
    await attendee.press_data(page.buttons[0][0].data)  # the visitor's first event
    assert plain(ZH("survey.intro", event=survey.line_of(ZH, event), count=7)) in attendee.text
