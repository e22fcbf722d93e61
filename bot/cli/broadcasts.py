"""``patentbot broadcast send|list|pause|resume|cancel`` and ``patentbot stats``: the admin's
broadcast and statistics commands from the terminal.

A broadcast made here is a job in the database like one made in the chat; the running bot
delivers it (its delivery runner looks for new jobs every few seconds), with the same rate
limits and the same guarantee. ``--wait`` follows its progress.
"""

from __future__ import annotations

import argparse
import asyncio
from html import escape
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli.command import Commands
from bot.settings import Settings, SettingsError, route_rates
from forms.answers import InvalidAnswer, parse_yes_no
from forms.definition import Form, programme
from handlers.admin import broadcast_text
from handlers.admin.service import (
    Author,
    Message,
    Reason,
    Refused,
    check_message,
    move,
    parse_audience,
    queue_broadcast,
    stats_text,
)
from handlers.kernel.render import plain
from locales import N_, Translator, translator
from models import broadcast_jobs
from models.db import database

WAIT_SECONDS = 2.0


def _yes(answer: str) -> bool:
    """The chat's yes/no words (是 / yes / y …); anything else is a no."""
    try:
        return parse_yes_no(answer)
    except InvalidAnswer:
        return False


def add_parsers(commands: Commands) -> None:
    """The ``broadcast`` and ``stats`` subcommands of ``patentbot``."""
    parser = commands.add_parser("broadcast", help="broadcast a message: send, list, pause, …")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    send = actions.add_parser("send", help="queue a broadcast (after a preview and a y/N)")
    send.add_argument(
        "--audience",
        required=True,
        help="all | unfinished | eligible | flag:RULE_ID | event:EVENT_ID | language:zh_CN",
    )
    text = send.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the message, in Telegram HTML (<b>, <i>, <a href=…>)")
    text.add_argument("--text-file", type=Path, help="the message from a UTF-8 file")
    media = send.add_mutually_exclusive_group()
    media.add_argument("--photo", type=Path, help="one picture; the text is its caption")
    media.add_argument("--document", type=Path, help="one file; the text is its caption")
    send.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    send.add_argument("--wait", action="store_true", help="print progress until it is done")
    actions.add_parser("list", help="the latest broadcasts and their counts")
    for action in ("pause", "resume", "cancel"):
        sub = actions.add_parser(action, help=f"{action} a broadcast")
        sub.add_argument("id", type=int)
    parser.set_defaults(run=run_broadcast_command)
    stats = commands.add_parser("stats", help="users, assessments, flags, clusters, events")
    stats.set_defaults(run=_stats)


async def _stats(settings: Settings, _args: argparse.Namespace) -> str:
    return await run_stats_command(settings)


async def run_stats_command(settings: Settings) -> str:
    t = translator(settings.default_locale)
    async with database(settings.database_url) as sessions, sessions() as session:
        return plain(await stats_text(session, programme(settings.programme), t))


async def run_broadcast_command(settings: Settings, args: argparse.Namespace) -> str:
    t = translator(settings.default_locale)
    form = programme(settings.programme)
    async with database(settings.database_url) as sessions:
        if args.action == "send":
            return await _send(settings, args, t, form, sessions)
        async with sessions() as session:
            if args.action == "list":
                text, _ = await broadcast_text.jobs_text(session, form, t, N_("cli.broadcast_none"))
                return plain(text)
            job = await broadcast_jobs.get_broadcast(session, args.id)
            if job is None:
                raise SettingsError(plain(t("broadcast.not_found", id=args.id)))
            action = "stop" if args.action == "cancel" else args.action  # no "are you sure?"
            moved, said = await move(session, t, job, action)
            if not moved:
                raise SettingsError(plain(said))
            await session.commit()
            return plain(said)


def _refused(t: Translator, refused: Refused, audience: str) -> SettingsError:
    """A refusal in the terminal's words (its options, not the chat's buttons)."""
    match refused.reason:
        case Reason.EMPTY:
            return SettingsError(plain(t("cli.broadcast_empty")))
        case Reason.BAD_AUDIENCE:
            error = t("broadcast.cli_bad_audience", audience=escape(audience))
            return SettingsError(plain(error))
    return SettingsError(plain(refused.text(t)))


def _message(args: argparse.Namespace, t: Translator) -> Message:
    """The message as given, checked before the preview."""
    text = args.text if args.text is not None else _read(args.text_file, t).decode()
    path = args.photo or args.document
    if path is None:
        message = Message(text)
    else:
        kind = "photo" if args.photo else "document"
        message = Message(text, kind, filename=path.name, content=_read(path, t))
    refused = check_message(message)
    if refused is not None:
        raise _refused(t, refused, args.audience)
    return message


def _read(path: Path, t: Translator) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        error = t("broadcast.cli_no_file", path=escape(str(path)), error=escape(str(e)))
        raise SettingsError(plain(error)) from None


async def _send(
    settings: Settings,
    args: argparse.Namespace,
    t: Translator,
    form: Form,
    sessions: async_sessionmaker[AsyncSession],
) -> str:
    audience = parse_audience(args.audience)
    if isinstance(audience, Refused):
        raise _refused(t, audience, args.audience)
    message = _message(args, t)
    async with sessions() as session:
        shown = await broadcast_text.preview(session, form, t, audience, route_rates(settings))
    if shown.count == 0:
        raise SettingsError(plain(t("broadcast.preview_none")))
    attached = [f"📎 {message.filename}"] if message.filename else []
    preview = [plain(message.text), *attached, "", *map(plain, shown.lines)]
    print("\n".join(preview))
    if not args.yes:  # no transaction stays open while a person decides
        count = shown.count
        prompt = plain(t.plural("broadcast.cli_confirm", "broadcast.cli_confirm.plural", count))
        answer = await asyncio.to_thread(input, prompt)
        if not _yes(answer):
            return plain(t("broadcast.dropped"))
    async with sessions() as session:  # the audience is counted again as the job is made
        author = Author(None, t.locale)
        routes = frozenset(route_rates(settings))
        job = await queue_broadcast(session, form.id, author, str(audience), message, routes)
        if isinstance(job, Refused):
            raise _refused(t, job, args.audience)
        await session.commit()
        assert job.id is not None
        queued = plain(
            t.plural(
                "broadcast.queued_offline", "broadcast.queued_offline.plural", job.total, id=job.id
            )
        )
    if not args.wait:
        return queued
    print(queued)
    return await _follow(sessions, job.id, t)


async def _follow(sessions: async_sessionmaker[AsyncSession], job_id: int, t: Translator) -> str:
    """Print the counts every few seconds until the job is no longer running."""
    while True:
        async with sessions() as session:
            job = await broadcast_jobs.get_broadcast(session, job_id)
            assert job is not None
            counts = (await broadcast_jobs.state_counts(session, [job_id]))[job_id]
            reasons = await broadcast_jobs.failure_reasons(
                session, job_id, broadcast_text.REASONS_SHOWN
            )
        if job.status != broadcast_jobs.RUNNING:
            return plain(broadcast_text.status_reply(t, job, counts, reasons=reasons).text)
        print(plain(broadcast_text.counts_line(t, job, counts)), flush=True)
        await asyncio.sleep(WAIT_SECONDS)
