"""What Telegram's three markup parsers share: the result (text plus entities with UTF-16
offsets), the refusal, and the pieces each parser reads its input with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# TDLib's is_space(); NUL is included because its parsers read one past the end.
SPACE = frozenset(" \t\r\n\0\v")
EOF = "\0"


class EntityParseError(ValueError):
    """Markup Telegram would refuse; str() is the part after "can't parse entities: "."""


class UnsupportedParseModeError(ValueError):
    """parse_mode is neither HTML, MarkdownV2 nor Markdown."""


@dataclass(frozen=True)
class ParsedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Entity offsets are counted in UTF-16 code units, like the Bot API counts them."""
    return len(text.encode("utf-16-le")) // 2


def byte_offset(text: str, index: int) -> int:
    # Error messages report UTF-8 byte offsets; only computed on the error path.
    return len(text[:index].encode("utf-8"))


class Output:
    """Accumulates parsed text and tracks the UTF-16 offset of its end."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.utf16 = 0

    def add(self, chars: str) -> None:
        self.chars.append(chars)
        self.utf16 += utf16_len(chars)

    def text_since(self, index: int) -> str:
        return "".join(self.chars[index:])

    def __len__(self) -> int:
        return len(self.chars)

    def value(self) -> str:
        return "".join(self.chars)


def at(text: str, index: int) -> str:
    return text[index] if index < len(text) else EOF


def is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def normalize_url(url: str) -> str | None:
    url = url.strip()
    if not url or any(ch in SPACE for ch in url):
        return None
    if "://" not in url and not url.startswith(("tg:", "mailto:")):
        url = "http://" + url
    return url


def link_entity(url: str, offset: int, length: int) -> dict[str, Any] | None:
    prefix = "tg://user?id="
    if url.startswith(prefix) and url[len(prefix) :].isdigit():
        user = {"id": int(url[len(prefix) :]), "is_bot": False, "first_name": ""}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    normalized = normalize_url(url)
    if normalized is None:
        # TDLib silently drops links it cannot use instead of refusing the message.
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": normalized}


def sorted_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for entity in entities:
        entity.pop("_language", None)
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))
