"""A fake Telegram Bot API server that real bot libraries can talk to in tests."""

from .html import EntityParseError, ParsedText, format_text, parse_html
from .server import (
    ApiCall,
    BotMessage,
    ButtonPress,
    CallbackAnswer,
    FakeBotAPI,
    FakeGroup,
    FakeUser,
    SentFile,
)
from .spec import ApiError, BotApiSpec, UploadedFile

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
