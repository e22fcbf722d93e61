"""Serving: the web chat and, with a token, Telegram, in one process until stopped."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.pages.identity import SecretMismatch
from bot.settings import Settings, SettingsError, listeners_clash
from bot.upkeep import upkeep
from handlers.kernel.render import plain
from locales import translator

if TYPE_CHECKING:
    from bot.transports.telegram.outgoing import Link
    from handlers.kernel.router import Router


Connect = Callable[[Settings], AbstractAsyncContextManager["Link"]]


class AddressTaken(Exception):
    """A listening address another program (or another patentbot) holds already."""

    def __init__(self, variable: str, address: tuple[str, int]) -> None:
        super().__init__(variable, address)
        self.variable = variable
        self.address = f"{address[0]}:{address[1]}"


def _in_use(error: OSError) -> bool:
    return error.errno == errno.EADDRINUSE


def database_line(settings: Settings) -> str:
    """Which database a command uses, so an officer can tell it is the running bot's: the
    SQLite file made absolute (a relative one is the current folder's), a PostgreSQL
    password masked."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    t = translator(settings.default_locale)
    return plain(t("cli.database", url=url.render_as_string(hide_password=True)))


def _telegram(settings: Settings) -> Connect:
    # Each transport imports its own library; only the chosen one is loaded.
    if settings.bot_framework == "ptb":
        from bot.transports.telegram.with_ptb import connect
    else:
        from bot.transports.telegram.with_aiogram import connect
    return connect


def _freeze_start_up() -> None:
    """Start-up makes a few hundred thousand objects that live as long as the process:
    aiogram's types, the tables, the forms, the catalogs. With the collector paused while
    they are made, one pass clears start-up's garbage and the rest is frozen: full passes
    walked them all, again and again, for nothing — a tenth of the start, and of every
    reply's CPU under load (bench/README.md, issue 15)."""
    gc.collect()
    gc.freeze()
    gc.enable()


def _check_serving(settings: Settings, telegram: bool) -> None:
    t = translator(settings.default_locale)  # the terminal's language
    if not telegram and settings.web_listen is None:
        raise SettingsError(plain(t("cli.nothing_to_serve")))
    if telegram and listeners_clash(settings):
        assert settings.web_listen is not None
        web, hook = settings.web_listen, settings.webhook_listen
        clash = t("cli.listen_clash", web=f"{web[0]}:{web[1]}", webhook=f"{hook[0]}:{hook[1]}")
        raise SettingsError(plain(clash))


@asynccontextmanager
async def _web_chat(settings: Settings, router: Router) -> AsyncIterator[None]:
    """The web chat while the block runs (nothing with WEB_LISTEN=off); says where."""
    if settings.web_listen is None:
        yield
        return
    from bot.transports.web import chat as web

    async with AsyncExitStack() as stack:
        try:  # only the start: what the block raises is not about WEB_LISTEN
            address = await stack.enter_async_context(web.listening(settings, router))
        except OSError as error:
            if _in_use(error):
                raise AddressTaken("WEB_LISTEN", settings.web_listen) from error
            raise
        t = translator(settings.default_locale)
        print(plain(t("web.listening", url=address)), flush=True)
        if settings.public_url is not None:
            print(plain(t("web.public", url=settings.public_url)), flush=True)
        yield


async def _run(settings: Settings, telegram: bool) -> None:
    """The web chat and, with a token, Telegram: one router, one database, one event loop.
    Telegram is connected first (it says who the bot is), so the router's context is
    complete when it is made."""
    from bot.app import build, deliveries, until_stopped

    async with AsyncExitStack() as stack:
        gc.disable()  # until what the process keeps is made: see _freeze_start_up
        try:
            connect = _telegram(settings) if telegram else None  # imported before serving
            link = None if connect is None else await stack.enter_async_context(connect(settings))
            router, engine = await build(settings, None if link is None else link.platform)
        finally:
            _freeze_start_up()
        try:
            retention = timedelta(days=settings.visitor_retention_days)
            async with _web_chat(settings, router), upkeep(router.context.sessions, retention):
                # After the address to open, which scripts read as the first line.
                print(database_line(settings), file=sys.stderr, flush=True)
                if link is None:  # the web alone: its inbox and e-mail are delivered here
                    async with deliveries(router.context, settings):
                        await until_stopped(handle_signals=True)
                    return
                try:
                    await link.serve(router, True)  # until SIGINT/SIGTERM
                except OSError as error:  # the webhook's is the only address it binds
                    if _in_use(error) and settings.webhook_url is not None:
                        raise AddressTaken("WEBHOOK_LISTEN", settings.webhook_listen) from error
                    raise
        finally:
            await router.settle()
            await engine.dispose()


def serve(settings: Settings, telegram: bool) -> int:
    """Serve until stopped; a failure (Telegram refusing the token, an unreachable
    BOT_API_SERVER, a port already taken) is logged — through the filter that masks the
    token, which a traceback printed by Python would show — and ends the process with
    status 1."""
    _check_serving(settings, telegram)
    try:
        asyncio.run(_run(settings, telegram))
    except AddressTaken as taken:  # one line: what to change is plain, a traceback hides it
        t = translator(settings.default_locale)
        said = t("cli.address_taken", variable=taken.variable, address=taken.address)
        print(f"patentbot: {plain(said)}", file=sys.stderr)
        return 1
    except SecretMismatch:
        t = translator(settings.default_locale)
        said = t("cli.secret_mismatch")
        print(f"patentbot: {plain(said)}", file=sys.stderr)
        return 1
    except Exception:
        logging.getLogger("patentbot").exception("the bot stopped")
        return 1
    return 0
