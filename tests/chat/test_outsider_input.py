"""What an outsider types stays what it is: a title with "$…$" is drawn as text, not as
mathtext (and "$\\invalidcommand$" does not fail the report); a figure in digits other
than ASCII or full-width ones, or written "1_000", is no number; a forged button or
command with "²" or an id no row can have is a stale button or a refusal, never an error
— on SQLite as on PostgreSQL, whose integer keys end at 2**31 - 1."""

from __future__ import annotations

from datetime import date

import pytest

from forms.answers import InvalidAnswer, parse_amount, parse_date, parse_phone
from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.training import events
from handlers.training.report import chart_figure, chart_png
from locales import translator
from testkit.chat import Chat

ZH = translator("zh_CN")
ADMIN = 999  # the conftest router's admin


async def test_an_event_title_with_dollars_is_drawn_as_typed(router: Router, form: Form) -> None:
    title = r"成本$\invalidcommand$与$x^2$"
    async with router.context.sessions() as session:
        event = await events.create_event(
            session, form, title=title, event_date=date(2024, 10, 8), place="南沙",
            closes_at=None, created_by=ADMIN,
        )  # fmt: skip
        await session.commit()
        report = await events.load_report(session, form, event)
    figure = chart_figure(ZH, report)
    drawn = figure.axes[0].title
    assert title in drawn.get_text() and not drawn.get_parse_math()
    assert chart_png(ZH, report).startswith(b"\x89PNG")  # no mathtext error
    admin = Chat(router, ADMIN)
    await admin.send(f"/event report {event.code}")
    assert any(r.photo is not None for r in admin.last)
    assert plain(ZH("error.internal")) not in admin.text


@pytest.mark.parametrize("typed", ["1_000", "٣٠٠", "१२३", "12٣"])
def test_a_figure_in_other_digits_is_no_number(form: Form, typed: str) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        parse_amount(form.question("revenue_y1"), typed)
    assert refused.value.key == "error.not_a_number"


def test_full_width_digits_are_ours(form: Form) -> None:
    assert parse_amount(form.question("revenue_y1"), "１２，３４５").value == 12345
    assert parse_date("２０２４年１０月８日") == date(2024, 10, 8)
    with pytest.raises(InvalidAnswer):
        parse_date("٢٠٢٤-١٠-٠٨")
    with pytest.raises(InvalidAnswer):
        parse_phone("١٣٨٠٠١٣٨٠٠٠")


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ("sv:change:²", ZH("error.stale_button")),
        ("sv:change:99999999999", ZH("error.stale_button")),
        ("ev:show:²", ZH("error.stale_button")),
        ("bc:pause:4294967296:l", ZH("broadcast.not_found", id=4294967296)),
    ],
)
async def test_a_forged_number_in_a_button_is_refused(router: Router, data: str, said: str) -> None:
    admin = Chat(router, ADMIN)
    await admin.send("/start")
    await admin.press_data(data)
    assert admin.text == plain(said)


@pytest.mark.parametrize("words", ["add ²", "add 99999999999999999999999", "remove -5"])
async def test_an_admin_id_that_is_no_number_is_refused(router: Router, words: str) -> None:
    admin = Chat(router, ADMIN)
    await admin.send(f"/admins {words}")
    assert admin.text == plain(ZH("admins.bad_id"))
