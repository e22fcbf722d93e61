"""``patentbot event new|list`` and ``patentbot report CODE``: the admin's event commands
from the terminal, writing the QR code, chart and spreadsheet as files."""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings, SettingsError
from forms.answers import InvalidAnswer, parse
from forms.definition import Form, admin_form, programme
from handlers import events
from handlers.render import plain
from handlers.survey_report import chart_png, report_text, report_xlsx
from locales import Translator, translator
from models import queries
from models.db import database

TERMINAL_ADMIN = 0  # created_by of events made from the terminal


async def run_event_command(settings: Settings, args: argparse.Namespace) -> str:
    t = translator(getattr(args, "locale", None) or settings.default_locale)
    form = programme(settings.programme)
    async with database(settings.database_url) as sessions, sessions() as session:
        if args.command == "report":
            return await _report(session, form, t, args)
        if args.action == "list":
            found = await queries.events_with_counts(session)
            return "\n".join(plain(line) for line in events.list_lines(t, found))
        event = await events.create_event(
            session, form, **_event_fields(args, t), created_by=TERMINAL_ADMIN
        )
        await session.commit()
    link = events.deep_link(settings.bot_username, event.code)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    qr = args.out_dir / f"survey-{event.code}.png"
    qr.write_bytes(events.qr_png(link))
    return f"{event.code}\n{link}\n📄 {qr}"


def _event_fields(args: argparse.Namespace, t: Translator) -> dict[str, Any]:
    """--title, --date, --place, --closes read by the questions /event asks in the chat,
    with their rules (length, a date, a closing time still ahead)."""
    asked = admin_form("event")
    given = {"title": args.title, "event_date": args.date, "place": args.place}
    given |= {"closes_at": args.closes} if args.closes else {}
    try:
        fields = {qid: parse(asked.question(qid), raw).value for qid, raw in given.items()}
    except InvalidAnswer as e:
        raise SettingsError(plain(t(e.key, **e.values))) from None
    return {"closes_at": None, **fields}


async def _report(
    session: AsyncSession, form: Form, t: Translator, args: argparse.Namespace
) -> str:
    event = await queries.event_by_code(session, args.code)
    if event is None:
        raise SettingsError(plain(t("event.not_found", code=args.code)))
    report = await events.load_report(session, form, event)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    chart = args.out_dir / f"survey-{event.code}-chart.png"
    sheet = args.out_dir / f"survey-{event.code}.xlsx"
    chart.write_bytes(chart_png(t, report))
    sheet.write_bytes(report_xlsx(t, report, identify=args.identify))
    return f"{plain(report_text(t, report))}\n📄 {chart}\n📄 {sheet}"
