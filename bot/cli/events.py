"""``patentbot event new|list|qr`` and ``patentbot report CODE``: the admin's event
commands from the terminal, writing the QR code, chart and spreadsheet as files.

They speak the terminal's language (``DEFAULT_LOCALE`` or ``--locale``) and give terminal
advice (``patentbot event list``), never the chat's (``/event``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings, SettingsError
from forms.answers import InvalidAnswer
from forms.definition import Form, programme
from handlers.kernel import render
from handlers.kernel.render import plain
from handlers.training import service as events
from handlers.training.service import chart_png, report_text, report_xlsx
from locales import N_, Translator, translator
from models import queries
from models.db import database
from models.tables import SYSTEM_ACTOR, TrainingEvent


async def run_event_command(settings: Settings, args: argparse.Namespace) -> str:
    t = translator(getattr(args, "locale", None) or settings.default_locale)
    form = programme(settings.programme)
    async with database(settings.database_url) as sessions, sessions() as session:
        if args.command == "report":
            return await _report(session, form, t, await _by_code(session, args.code, t), args)
        if args.action == "list":
            found = await queries.events_with_counts(session)
            lines = events.list_lines(t, found, N_("cli.event_none"))
            return "\n".join(plain(line) for line in lines)
        if args.action == "cards":
            return await _cards(settings, session, t, await _by_code(session, args.code, t), args)
        if args.action == "qr":
            event = await _by_code(session, args.code, t)
        else:
            event = await events.create_event(
                session, form, **_event_fields(args, t), created_by=SYSTEM_ACTOR
            )
            await session.commit()
    return "\n".join([event.code, *_link_and_qr(settings, t, event.code, args.out_dir)])


def _link_and_qr(settings: Settings, t: Translator, code: str, out_dir: Path) -> list[str]:
    """The survey link and the QR file written for it; without the bot's @username no
    phone could open the link, so no code is written and the reason is said instead."""
    public = str(settings.public_url) if settings.public_url else None
    links = events.survey_links(public, settings.bot_username, code)
    if links.scannable is None:
        return [plain(t("cli.event_no_link", code=code))]
    out_dir.mkdir(parents=True, exist_ok=True)
    qr = out_dir / f"survey-{code}.png"
    qr.write_bytes(events.qr_png(links.scannable))
    return [link for link in (links.web, links.telegram) if link] + [f"📄 {qr}"]


async def _cards(
    settings: Settings,
    session: AsyncSession,
    t: Translator,
    event: TrainingEvent,
    args: argparse.Namespace,
) -> str:
    """A card per attendee of the list, written as a spreadsheet to print (签到)."""
    try:
        text = args.names.read_text(encoding="utf-8-sig")  # Excel's CSV starts with a BOM
    except (OSError, UnicodeDecodeError) as e:
        error = t("cli.cards_no_file", path=str(args.names), error=str(e))
        raise SettingsError(plain(error)) from None
    names = events.attendee_names(text)
    if not names:
        raise SettingsError(plain(t("cli.cards_no_names", path=str(args.names))))
    cards = await events.issue_cards(session, event, names)
    await session.commit()
    public = str(settings.public_url) if settings.public_url else None
    links = events.survey_links(public, settings.bot_username, event.code)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / f"checkin-cards-{event.code}.xlsx"
    out.write_bytes(events.cards_xlsx(t, event, cards, links))
    return plain(t("cli.cards_written", count=len(cards), path=str(out)))


async def _by_code(session: AsyncSession, code: str, t: Translator) -> TrainingEvent:
    event = await queries.event_by_code(session, code)
    if event is None:
        raise SettingsError(plain(t("cli.event_not_found", code=code)))
    return event


def _event_fields(args: argparse.Namespace, t: Translator) -> dict[str, Any]:
    given = {"title": args.title, "event_date": args.date, "place": args.place}
    try:
        return events.event_fields(given | {"closes_at": args.closes or ""})
    except InvalidAnswer as e:
        raise SettingsError(plain(render.invalid(t, e))) from None


async def _report(
    session: AsyncSession, form: Form, t: Translator, event: TrainingEvent, args: argparse.Namespace
) -> str:
    report = await events.load_report(session, form, event)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    chart = args.out_dir / f"survey-{event.code}-chart.png"
    sheet = args.out_dir / f"survey-{event.code}.xlsx"
    chart.write_bytes(chart_png(t, report))
    sheet.write_bytes(report_xlsx(t, report))
    return f"{plain(report_text(t, report))}\n📄 {chart}\n📄 {sheet}"
