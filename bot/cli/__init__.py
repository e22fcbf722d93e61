"""``patentbot``: serve the web chat (WEB_LISTEN), and Telegram too when BOT_TOKEN is set."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot import logs
from bot.cli.command import Commands
from bot.cli.serve import database_line, serve
from bot.settings import Settings, SettingsError, load_settings
from forms.definition import programme
from handlers.kernel.render import plain
from locales import SUPPORTED, translator

# Each command's module is imported when that command runs, not when the CLI starts: the
# bot's start-up is measured (bench/README.md), and aiogram alone costs about 2 s.


async def _console(settings: Settings, _args: argparse.Namespace) -> None:
    from bot.app import build
    from bot.transports.console import Console
    from models.tables import SYSTEM_ACTOR

    admins = settings.admin_ids | {SYSTEM_ACTOR}  # the operator: see README, the terminal
    router, engine = await build(settings.model_copy(update={"admin_ids": admins}))
    try:
        await Console(router.handle, settings.output_dir).run()
    finally:
        await engine.dispose()


async def _draft(settings: Settings, args: argparse.Namespace) -> str:
    from handlers.applicant.service import draft_for_application
    from locales import LANGUAGE_NAMES
    from models.db import database

    t = translator(args.locale or settings.default_locale)  # the terminal's language
    async with database(settings.database_url) as sessions, sessions() as session:
        made = await draft_for_application(
            session, programme(settings.programme), args.application, t.locale
        )
        await session.commit()
    if made is None:
        raise SettingsError(plain(t("draft.cli_not_found", id=args.application)))
    draft, content = made
    args.out.write_bytes(content)
    language = LANGUAGE_NAMES[draft.locale]
    return plain(t("draft.cli_written", path=args.out, version=draft.version, language=language))


async def _event(settings: Settings, args: argparse.Namespace) -> str:
    from bot.cli.events import run_event_command

    return await run_event_command(settings, args)


async def _backup(settings: Settings, args: argparse.Namespace) -> str:
    from bot.cli.backup import backup

    return backup(settings, args.file)


def _serving(commands: Commands) -> None:
    run = commands.add_parser(
        "run", help="the web chat at WEB_LISTEN, and Telegram when BOT_TOKEN is set (default)"
    )
    run.set_defaults(run=None, telegram=True)
    console = commands.add_parser("console", help="the conversation in this terminal, token or not")
    console.set_defaults(run=_console)
    web = commands.add_parser("web", help="the web chat only, even with BOT_TOKEN set")
    web.set_defaults(run=None, telegram=False)


def _events(commands: Commands) -> None:
    event = commands.add_parser("event", help="training events: new, list, qr, cards")
    event_commands = event.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = event_commands.add_parser("new", help="create an event; prints its link, writes its QR")
    new.add_argument("--title", required=True)
    new.add_argument("--date", required=True, help="e.g. 2024-10-08")
    new.add_argument("--place", required=True)
    new.add_argument("--closes", help="when the survey closes, e.g. '2024-10-08 17:00' (UTC+8)")
    listed = event_commands.add_parser("list", help="every event with its number of responses")
    qr = event_commands.add_parser("qr", help="write an event's QR code again")
    qr.add_argument("code", help="the event's code")
    cards = event_commands.add_parser(
        "cards", help="check-in cards from a list of attendees: one questionnaire each"
    )
    cards.add_argument("code", help="the event's code")
    cards.add_argument(
        "--names", type=Path, required=True, help="a name per line, or a CSV's first column"
    )
    report = commands.add_parser("report", help="an event's satisfaction report, chart, XLSX")
    report.add_argument("code", help="the event's code")
    for sub in (new, listed, qr, cards, report):
        sub.add_argument("--locale", choices=SUPPORTED, help="default: DEFAULT_LOCALE")
    for sub in (new, qr, cards, report):
        sub.add_argument("--out-dir", type=Path, default=Path("."), help="where files go")
    event.set_defaults(run=_event)
    report.set_defaults(run=_event)


def _parser() -> argparse.ArgumentParser:
    """Every command sets ``run``, what it does; ``run`` None serves (Telegram too when
    ``telegram`` and a token is set), which is also what no command does."""
    from bot.cli import broadcasts, officers

    parser = argparse.ArgumentParser(prog="patentbot", description=__doc__)
    parser.set_defaults(run=None, telegram=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _serving(commands)
    draft = commands.add_parser("draft", help="write the draft application of an application")
    draft.add_argument("--application", type=int, required=True, help="application id")
    draft.add_argument("--out", type=Path, required=True, help="the .docx file to write")
    draft.add_argument("--locale", choices=SUPPORTED, help="default: DEFAULT_LOCALE")
    draft.set_defaults(run=_draft)
    _events(commands)
    backup = commands.add_parser("backup", help="copy the SQLite database, the bot running or not")
    backup.add_argument("file", type=Path, help="the copy to write (replaced if it exists)")
    backup.set_defaults(run=_backup)
    broadcasts.add_parsers(commands)
    officers.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        telegram = args.run is None and args.telegram and settings.bot_token is not None
        # The bot on Telegram logs what it does; the terminal's commands, the console
        # conversation and the web chat alone print only their own words (and warnings).
        logs.configure(settings, logging.INFO if telegram else logging.WARNING)
        if args.run is None:
            return serve(settings, telegram)
        # On stderr: piped output (a report, a link) stays clean.
        print(database_line(settings), file=sys.stderr, flush=True)
        said = asyncio.run(args.run(settings, args))
        if said is not None:
            print(said)
    except (SettingsError, LookupError) as e:  # LookupError: a form the programme names is missing
        print(f"patentbot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
