"""``patentbot event new|list`` and ``patentbot report CODE``: the admin's event commands
from the terminal, writing the QR code, chart and spreadsheet as files."""

from __future__ import annotations

import argparse
from datetime import datetime

from bot.settings import Settings, SettingsError
from forms.answers import InvalidAnswer, parse, parse_date
from forms.definition import admin_form, programme
from handlers import events
from handlers.render import plain
from handlers.survey_report import chart_png, report_text, report_xlsx
from locales import translator
from models import queries
from models.db import connect

TERMINAL_ADMIN = 0  # created_by of events made from the terminal


async def run_event_command(settings: Settings, args: argparse.Namespace) -> str:
    t = translator(getattr(args, "locale", None) or settings.default_locale)
    form = programme(settings.programme)
    engine, sessions = await connect(settings.database_url)
    try:
        async with sessions() as session:
            if args.command == "report":
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
            if args.action == "list":
                found = await queries.events_with_counts(session)
                return "\n".join(plain(line) for line in events.list_lines(t, found))
            closing = admin_form("event").question("closes_at")  # its rules, as in the chat
            try:
                event_date = parse_date(args.date)
                closes_at = parse(closing, args.closes).value if args.closes else None
            except InvalidAnswer as e:
                raise SettingsError(plain(t(e.key))) from None
            assert closes_at is None or isinstance(closes_at, datetime)
            event = await events.create_event(
                session,
                form,
                title=args.title.strip(),
                event_date=event_date,
                place=args.place.strip(),
                closes_at=closes_at,
                created_by=TERMINAL_ADMIN,
            )
            await session.commit()
            link = events.deep_link(settings.bot_username, event.code)
            args.out_dir.mkdir(parents=True, exist_ok=True)
            qr = args.out_dir / f"survey-{event.code}.png"
            qr.write_bytes(events.qr_png(link))
            return f"{event.code}\n{link}\n📄 {qr}"
    finally:
        await engine.dispose()
