"""The bot's log: where it goes, how much, and that no secret ever reaches it.

The libraries put the bot token in their URLs (``/bot<token>/getMe``) and sometimes in
their errors (python-telegram-bot: "The token `…` was rejected by the server"; aiohttp
quotes the URL of a failed request). Whoever reads a log, a screenshot of one or a bug
report must not get to act as the bot, so every line and every traceback passes through
``Redact`` on its way out, whichever library wrote it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from bot.settings import Settings

MASK = "<redacted>"


# A record is one line of the log: a newline an outsider put in a path, a name or a
# header would write a forged line after it. Control characters are shown escaped.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), 0x7F) if c != 0x09}


class Redact(logging.Filter):
    """Replaces each secret in a record's message, traceback and stack with MASK, and
    escapes the message's control characters (one record, one line)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so that a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself when it formats
            return True
        clean = self.redact(message).translate(_CONTROLS)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:  # formatted here, as Formatter would
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class BrokenBodies(logging.Filter):
    """Drops aiohttp's "Unhandled exception" for a request body that cannot be read (a
    gzip that does not unzip): after our 400, aiohttp drains the body, meets the error
    again and logs a traceback — one per post, a log anyone could fill."""

    def __init__(self, unreadable: type[BaseException]) -> None:
        super().__init__()
        self.unreadable = unreadable

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, self.unreadable)


def quiet_broken_bodies() -> None:
    """Install BrokenBodies on aiohttp's server log (once; by each listener as it starts)."""
    from aiohttp.web_protocol import RequestPayloadError  # not for the console's import

    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, BrokenBodies) for f in server.filters):
        server.addFilter(BrokenBodies(RequestPayloadError))


def secrets_of(settings: Settings) -> list[str]:
    """What must never be logged. Of the token, the part after the colon (the bot's id
    before it is public): it is masked however a URL encodes the colon."""
    found = []
    if settings.bot_token is not None:
        token = settings.bot_token.get_secret_value()
        found.append(token.partition(":")[2] or token)
    for secret in (settings.webhook_secret, settings.web_secret):
        if secret is not None:
            found.append(secret.get_secret_value())
    password = make_url(settings.database_url).password
    if password:
        found.append(str(password))
    return found


def configure(settings: Settings, level: int) -> None:
    """Log to stderr at ``level``, warnings included, with the settings' secrets masked."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)  # warnings.warn texts go through the same filter
    redact = Redact(secrets_of(settings))
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
