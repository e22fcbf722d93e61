"""``patentbot admins add NAME | list | remove NAME``: the programme officers who may use
the office pages (bot/office/routes.py), from the server's terminal.

``add`` prints a one-time sign-in link (also for an officer already listed: a new
browser, a lost link). The link starts with PUBLIC_URL, else the address WEB_LISTEN
serves.
"""

from __future__ import annotations

import argparse

from bot.cli.command import Commands
from bot.settings import Settings, SettingsError
from handlers.kernel.render import local_date, plain
from locales import translator
from models import officers
from models.db import database

ADDED_BY = "terminal"


def add_parsers(commands: Commands) -> None:
    parser = commands.add_parser("admins", help="programme officers of the office pages")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an officer; prints a one-time sign-in link")
    add.add_argument("name", help="how the pages and the audit name them")
    actions.add_parser("list", help="every officer and their last sign-in")
    remove = actions.add_parser("remove", help="remove an officer, signing them out")
    remove.add_argument("name")
    parser.set_defaults(run=run_admins_command)


def base_url(settings: Settings) -> str:
    if settings.public_url is not None:
        return str(settings.public_url)
    # WEB_LISTEN=off in this terminal: the pages are served elsewhere, at the default.
    host, port = settings.web_listen or Settings.model_fields["web_listen"].default
    return f"http://{host}:{port}"


async def run_admins_command(settings: Settings, args: argparse.Namespace) -> str:
    t = translator(settings.default_locale)
    async with database(settings.database_url) as sessions, sessions() as session:
        if args.action == "list":
            found = await officers.listed(session)
            lines = [
                t(
                    "cli.admins.line",
                    name=officer.name,
                    added=local_date(t, officer.created_at),
                    last=local_date(t, officer.last_signin_at) if officer.last_signin_at else "—",
                )
                for officer in found
            ]
            return "\n".join(lines) or t("cli.admins.none")
        name = " ".join(args.name.split())
        if args.action == "remove":
            if not await officers.remove(session, name):
                raise SettingsError(t("cli.admins.not_found", name=name))
            await session.commit()
            return t("cli.admins.removed", name=name)
        if not officers.valid_name(name):
            raise SettingsError(t("cli.admins.bad_name", length=officers.NAME_LENGTH))
        token, new = await officers.add_with_link(session, name, ADDED_BY)
        await session.commit()
    link = officers.signin_link(base_url(settings), token)
    values = {"name": name, "hours": officers.LINK_HOURS, "link": link}
    return plain(t("cli.admins.added", **values) if new else t("cli.admins.new_link", **values))
