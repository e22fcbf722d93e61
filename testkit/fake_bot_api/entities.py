"""What a markup parser gives back: the text and its entities, or the refusal; and the
link entities built as Telegram builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .reading import SPACE


class EntityParseError(ValueError):
    """Markup Telegram would refuse; str() is the part after "can't parse entities: "."""


class UnsupportedParseModeError(ValueError):
    """parse_mode is neither HTML, MarkdownV2 nor Markdown."""


@dataclass(frozen=True)
class ParsedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


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
