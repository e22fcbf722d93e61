"""/event (admins): create training events, hand out their survey link and QR code,
close and reopen them, and report their satisfaction figures."""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forms.answers import parse
from forms.definition import Form, admin_form
from handlers.kernel import render
from handlers.kernel.commands import Buttons, Command, as_row_id
from handlers.kernel.context import Context, Turn
from handlers.kernel.spreadsheet import BOOK_OPTIONS, Sheet, add_formats
from handlers.kernel.types import Document, Reply
from handlers.questionnaire.chat import Answers, Questionnaire, current_application, proceed, stale
from handlers.training.report import Report, chart_png, compute, report_text, report_xlsx
from handlers.training.survey import DEEP_LINK_PREFIX, is_open, survey_form
from locales import LOCAL_TIME, N_, Translator
from models import attendance, queries
from models.tables import Application, ApplicationStatus, CheckIn, Flow, TrainingEvent, utcnow

FLOW = Flow.EVENT_SETUP
BUTTONS = Buttons("ev", admin=True)
# Codes people may read out or type: no 0/o, 1/l/i.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def questionnaire(turn: Turn) -> Questionnaire:
    return Questionnaire(
        FLOW, admin_form("event"), N_("event.review_title"), N_("button.event_create")
    )


@dataclass(frozen=True)
class SurveyLinks:
    """Where attendees answer an event's survey: its web address (PUBLIC_URL/s/<code>),
    which WeChat opens, and the Telegram link; either is None while unknown."""

    web: str | None
    telegram: str | None

    @property
    def scannable(self) -> str | None:
        """What the QR code holds: the web address where there is one (mainland phones
        reach it; Telegram they may not), else the Telegram link."""
        return self.web or self.telegram


def survey_links(public_url: str | None, bot_username: str | None, code: str) -> SurveyLinks:
    web = f"{public_url.rstrip('/')}/s/{code}" if public_url else None
    telegram = (
        f"https://t.me/{bot_username}?start={DEEP_LINK_PREFIX}{code}" if bot_username else None
    )
    return SurveyLinks(web, telegram)


def links_of(context: Context, code: str) -> SurveyLinks:
    return survey_links(context.public_url, context.bot_username, code)


def links_text(t: Translator, links: SurveyLinks) -> str:
    """Each address on its own line, named."""
    lines = [t("event.link_web", url=escape(links.web))] if links.web else []
    lines += [t("event.link_telegram", url=escape(links.telegram))] if links.telegram else []
    return "\n".join(lines)


def no_link_text(t: Translator, code: str) -> str:
    """What to do instead of scanning, and what to set for a code that works."""
    return t("event.no_link", code=code, survey_command=f"/survey {code}")


def qr_png(link: str) -> bytes:
    """Large enough to project: 12 px per module, the standard 4-module quiet zone."""
    import segno  # here: only a new event needs it, not every start

    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=12, border=4)
    return out.getvalue()


def event_fields(given: dict[str, str]) -> dict[str, Any]:
    """Title, date, place and closing time as typed (the terminal's options, the office
    page's form), read by the questions /event asks in the chat, with their rules
    (length, a date, a closing time still ahead). Raises InvalidAnswer."""
    asked = admin_form("event")
    fields = {qid: parse(asked.question(qid), raw).value for qid, raw in given.items() if raw}
    return {"closes_at": None, **fields}


async def create_event(
    session: AsyncSession,
    programme_form: Form,
    *,
    title: str,
    event_date: date,
    place: str,
    closes_at: datetime | None,
    created_by: int,
) -> TrainingEvent:
    survey = survey_form(programme_form)
    while True:  # 31^6 codes: a clash is rare, but must not become an error
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if await queries.event_by_code(session, code) is None:
            break
    event = TrainingEvent(
        code=code,
        title=title,
        event_date=event_date,
        place=place,
        closes_at=closes_at,
        survey_id=survey.id,
        created_by=created_by,
    )
    session.add(event)
    await session.flush()
    return event


async def load_report(
    session: AsyncSession, programme_form: Form, event: TrainingEvent, *, overall_only: bool = False
) -> Report:
    """The event's report; ``overall_only`` reads just the overall item's answers, enough
    for its rate and whether it meets the target (/stats lists several events)."""
    assert event.id is not None
    form = survey_form(programme_form)
    submitted = await queries.survey_responses(session, event.id)
    only = str(form.params["overall_item"]) if overall_only else None
    rows = await queries.survey_answers(session, event.id, only)
    present = await attendance.attendance(session, event.id)
    return compute(programme_form, event, submitted, rows, present)


MAX_CARDS = 2000  # a lecture hall's list, many times over; a bound on one import


def attendee_names(text: str) -> list[str]:
    """The office's list of attendees as pasted or saved from a spreadsheet: a name per
    line, the first column of a CSV line; blank lines and a 姓名/name header skipped."""
    names = []
    for line in text.splitlines():
        name = " ".join(line.split(",")[0].split()).strip('"')[:60]
        if name and name.casefold() not in ("姓名", "name", "名字"):
            names.append(name)
    return names[:MAX_CARDS]


async def issue_cards(
    session: AsyncSession, event: TrainingEvent, names: Sequence[str]
) -> list[CheckIn]:
    """A check-in card per attendee (the caller commits): from now on the event's survey
    takes one response per card."""
    assert event.id is not None
    return await attendance.issue(session, event.id, names)


def cards_xlsx(
    t: Translator, event: TrainingEvent, cards: Sequence[CheckIn], links: SurveyLinks
) -> bytes:
    """The cards to print and hand out at the door (签到): each attendee's name, code and
    the survey link with the code in it (a QR code of it takes them straight in)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, BOOK_OPTIONS)
    sheet = Sheet(book, t("event.cards_sheet"), add_formats(book))
    sheet.title(t("event.cards_title", title=event.title, date=t.date(event.event_date)))
    sheet.header([t("event.cards_col_name"), t("event.cards_col_code"), t("event.cards_col_link")])
    for card in cards:
        link = f"{links.web}-{card.code}" if links.web else ""
        sheet.write([card.name or "", card.code, link])
    sheet.finish()
    book.close()
    return out.getvalue()


def status_text(t: Translator, event: TrainingEvent) -> str:
    return t("event.open") if is_open(event) else t("event.closed")


def event_card(turn: Turn, event: TrainingEvent, responses: int) -> Reply:
    t = turn.t
    links = links_of(turn.context, event.code)
    closes = (
        t.datetime(event.closes_at.astimezone(LOCAL_TIME))
        if event.closes_at
        else t("event.no_closing")
    )
    text = t(
        "event.card",
        title=escape(event.title),
        date=t.date(event.event_date),
        place=escape(event.place),
        code=event.code,
        link=links_text(t, links) if links.scannable else no_link_text(t, event.code),
        closes=closes,
        status=status_text(t, event),
        responses=responses,
    )
    toggle = (
        render.button(t("button.event_close"), BUTTONS.data("close", event.id))
        if not event.closed
        else render.button(t("button.event_open"), BUTTONS.data("open", event.id))
    )
    keyboard = (
        (render.button(t("button.event_report"), BUTTONS.data("report", event.id)), toggle),
        (render.button(t("button.event_qr"), BUTTONS.data("qr", event.id)),),
    )
    return Reply(text, keyboard)


def qr_reply(turn: Turn, event: TrainingEvent) -> Reply:
    """The code to project, or, where no link can be made, why not and what to do."""
    link = links_of(turn.context, event.code).scannable
    if link is None:
        return Reply(no_link_text(turn.t, event.code))
    caption = turn.t("event.qr_caption", title=escape(event.title), link=escape(link))
    return Reply(photo=Document(f"survey-{event.code}.png", qr_png(link), caption))


def list_lines(
    t: Translator, events: Sequence[tuple[TrainingEvent, int]], none: str = N_("event.none")
) -> list[str]:
    """Each event with its number of responses (chat HTML; the terminal prints it plain);
    ``none`` says how to make one where there is none (a chat or a terminal command)."""
    lines = [
        t.plural(
            "event.list_item",
            "event.list_item.plural",
            count,
            title=escape(event.title),
            date=t.date(event.event_date),
            code=event.code,
            status=status_text(t, event),
        )
        for event, count in events
    ]
    return lines or [t(none)]


async def list_events(turn: Turn) -> list[Reply]:
    events = await queries.events_with_counts(turn.session)
    t = turn.t
    lines = [render.bold(t("event.list_title")), *list_lines(t, events)]
    buttons = [(render.button(t("button.event_new"), BUTTONS.data("new")),)]
    buttons += [
        (render.button(f"📊 {event.title[:40]}", BUTTONS.data("show", event.id)),)
        for event, _ in events[:20]
    ]
    return [Reply("\n".join(lines), tuple(buttons))]


async def start_setup(turn: Turn) -> list[Reply]:
    qn = questionnaire(turn)
    setup = Application(
        user_id=turn.user.id, programme_id=qn.form.id, programme_version=qn.form.version
    )
    turn.session.add(setup)
    await turn.session.flush()
    return [Reply(turn.t("event.setup_intro")), proceed(turn, qn, setup, {})]


async def _event(turn: Turn, key: str) -> TrainingEvent | None:
    """An event by id (from a button) or by code (typed)."""
    if (number := as_row_id(key)) is not None:
        return await turn.session.get(TrainingEvent, number)
    return await queries.event_by_code(turn.session, key)


async def command(turn: Turn) -> list[Reply]:
    """/event, /event new, /event report <code>, /event close|open <code>."""
    action, _, rest = turn.event.args.strip().partition(" ")
    match action.lower():
        case "":
            return await list_events(turn)
        case "new":
            return await start_setup(turn)
        case "report" | "close" | "open" | "qr" | "show":
            event = await _event(turn, rest.strip()) if rest.strip() else None
            if event is None:
                return [Reply(turn.t("event.not_found", code=escape(rest.strip())))]
            return await _act(turn, action.lower(), event)
    return [Reply(turn.t("event.usage"))]


async def on_button(turn: Turn, data: str) -> list[Reply]:
    """Buttons ev:new, ev:show|report|close|open|qr:<event id>."""
    action, _, key = data.partition(":")
    if action == "new":
        return await start_setup(turn)
    event = await _event(turn, key)
    if event is None:
        return stale(turn)
    return await _act(turn, action, event)


async def _act(turn: Turn, action: str, event: TrainingEvent) -> list[Reply]:
    assert event.id is not None
    if action in ("close", "open"):
        await set_open(turn.session, event, action == "open")
    if action == "qr":
        return [qr_reply(turn, event)]
    if action == "report":
        return report_replies(turn.t, await load_report(turn.session, turn.form, event))
    responses = await queries.survey_responses(turn.session, event.id)  # the valid ones
    return [event_card(turn, event, len(responses))]


async def set_open(session: AsyncSession, event: TrainingEvent, open_: bool) -> None:
    """Close an event's survey, or reopen it."""
    event.closed = not open_
    if open_ and event.closes_at is not None and event.closes_at <= utcnow():
        event.closes_at = None  # reopening means open now, whatever the old closing time
    session.add(event)
    await session.flush()


def report_replies(t: Translator, report: Report) -> list[Reply]:
    code = report.event.code
    chart = Document(f"survey-{code}-chart.png", chart_png(t, report), t("report.chart_caption"))
    sheet = Document(f"survey-{code}.xlsx", report_xlsx(t, report), t("report.xlsx_caption"))
    return [Reply(report_text(t, report), photo=chart), Reply(document=sheet)]


async def current(turn: Turn) -> Application | list[Reply]:
    setup = await current_application(turn)
    if setup is None or setup.status == ApplicationStatus.SUBMITTED:
        return [Reply(turn.t("hint.no_flow"))]
    return setup


async def submit(turn: Turn, setup: Application, answers: Answers) -> list[Reply]:
    """The event, with its link and QR code."""
    closes_at = answers.get("closes_at")
    event_date = answers["event_date"]
    assert isinstance(event_date, date) and (closes_at is None or isinstance(closes_at, datetime))
    event = await create_event(
        turn.session,
        turn.form,
        title=str(answers["title"]),
        event_date=event_date,
        place=str(answers["place"]),
        closes_at=closes_at,
        created_by=turn.user.id,
    )
    setup.status = ApplicationStatus.SUBMITTED
    setup.submitted_at = utcnow()
    turn.session.add(setup)
    if links_of(turn.context, event.code).scannable is None:  # the card says why not
        return [Reply(turn.t("event.created")), event_card(turn, event, 0)]
    created = Reply(turn.t("event.created_qr"))
    return [created, event_card(turn, event, 0), qr_reply(turn, event)]


COMMAND = Command("event", N_("command.event"), command, admin=True)
