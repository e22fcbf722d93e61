"""``patentbot backup FILE``: a consistent copy of the SQLite database, the bot running or
not. PostgreSQL has its own tool (pg_dump), which this command names instead."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import Settings, SettingsError
from handlers.kernel.render import plain
from locales import translator


def backup(settings: Settings, out: Path) -> str:
    t = translator(settings.default_locale)
    url = make_url(settings.database_url)
    if not url.drivername.startswith("sqlite"):
        raise SettingsError(plain(t("backup.postgres")))
    source = Path(url.database or "")
    if not url.database or not source.is_file():  # connecting would create an empty one
        raise SettingsError(plain(t("backup.no_database", path=source)))
    out = out.resolve()
    if out == source.resolve():
        raise SettingsError(plain(t("backup.same_file", path=out)))
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target, then renamed: an old backup there is replaced only by a
    # complete new one, never by half a copy.
    handle, partial = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        _copy(source, Path(partial))
        os.replace(partial, out)
    finally:
        Path(partial).unlink(missing_ok=True)
    return plain(t("backup.written", path=out))


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent snapshot while the bot keeps writing (its
    writes during the copy make the copy start again from a newer snapshot)."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.execute("PRAGMA busy_timeout=5000")  # as the bot waits for a writer
        reading.backup(writing)
        # A self-contained file: no write-ahead log beside it to carry along.
        writing.execute("PRAGMA journal_mode=DELETE")
