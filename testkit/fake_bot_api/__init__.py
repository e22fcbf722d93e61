"""A fake Telegram Bot API server that real bot libraries can talk to in tests."""

from .groups import FakeGroup
from .records import ApiCall, BotMessage, ButtonPress, CallbackAnswer, SentFile
from .server import FakeBotAPI
from .spec import ApiError, BotApiSpec, UploadedFile
from .text import EntityParseError, ParsedText, format_text, parse_html
from .users import FakeUser

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiSpec",
    "BotMessage",
    "ButtonPress",
    "CallbackAnswer",
    "EntityParseError",
    "FakeBotAPI",
    "FakeGroup",
    "FakeUser",
    "ParsedText",
    "SentFile",
    "UploadedFile",
    "format_text",
    "parse_html",
]
