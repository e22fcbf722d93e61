"""``patentbot``: run the bot (Telegram when BOT_TOKEN is set, else the console)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.settings import Settings, SettingsError, load_settings


async def _run_console(settings: Settings) -> None:
    from bot.app import build
    from bot.console import Console

    router, engine = await build(settings)
    try:
        await Console(router.handle, settings.output_dir).run()
    finally:
        await engine.dispose()


async def _run_telegram(settings: Settings) -> None:
    from bot.app import build

    # Each transport imports its own library; only the chosen one is loaded.
    if settings.bot_framework == "ptb":
        from bot.telegram_ptb import serve
    else:
        from bot.telegram_aiogram import serve
    router, engine = await build(settings)
    try:
        await serve(settings, router)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="patentbot", description=__doc__)
    parser.add_argument(
        "mode",
        nargs="?",
        choices=("run", "console"),
        default="run",
        help="run: Telegram when BOT_TOKEN is set, else the console (default); console: always",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
        if args.mode == "console" or settings.bot_token is None:
            logging.getLogger().setLevel(logging.WARNING)  # the console is for the conversation
            asyncio.run(_run_console(settings))
        else:
            asyncio.run(_run_telegram(settings))
    except SettingsError as e:
        print(f"patentbot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
