"""Message formatting parsed the way Telegram parses it (HTML, MarkdownV2, Markdown).

The parsers follow the observable behaviour of TDLib, which the Bot API server uses:
the same tags and escapes are accepted, the same mistakes are refused with the same
wording ("Unsupported start tag ...", "Character '.' is reserved ..."), and the
result is plain text plus entities with UTF-16 offsets.  A bot whose markup passes
here should pass on api.telegram.org, and one that fails there fails here.
"""

from __future__ import annotations

from typing import Any

from .entities import EntityParseError, ParsedText, UnsupportedParseModeError
from .html import parse_html
from .markdown import parse_markdown, parse_markdown_v2
from .reading import utf16_len

__all__ = [
    "EntityParseError",
    "ParsedText",
    "UnsupportedParseModeError",
    "format_text",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

# Leading/trailing characters Telegram trims from every message text and caption.
_TRIMMED = " \t\n\v\f"


def _clean_input(text: str) -> str:
    # Telegram drops carriage returns and turns other control characters into spaces.
    cleaned = text.replace("\r", "")
    return "".join(
        " " if (ord(ch) < 32 and ch not in "\n\t") or ch == "\x7f" else ch for ch in cleaned
    )


def _trim(parsed: ParsedText) -> ParsedText:
    """Strip surrounding whitespace and shift/clip entities accordingly."""
    text = parsed.text
    stripped_left = text.lstrip(_TRIMMED)
    left16 = utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip(_TRIMMED)
    limit16 = utf16_len(result)
    entities: list[dict[str, Any]] = []
    for entity in parsed.entities:
        if entity.get("type") == "_drop":
            continue
        start = max(0, int(entity["offset"]) - left16)
        end = min(limit16, int(entity["offset"]) + int(entity["length"]) - left16)
        if end <= start:
            continue
        entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(result, entities)


_PARSERS = {
    "html": parse_html,
    "markdownv2": parse_markdown_v2,
    "markdown": parse_markdown,
}


def format_text(
    text: str,
    parse_mode: str | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> ParsedText:
    """Turn a text parameter into what Telegram stores: trimmed text + entities.

    Raises EntityParseError for refused markup and UnsupportedParseModeError for an
    unknown parse_mode; explicit ``entities`` are used only without a parse_mode, as
    in the real API.
    """
    text = _clean_input(text)
    mode = (parse_mode or "").strip().lower()
    if mode:
        parser = _PARSERS.get(mode)
        if parser is None:
            raise UnsupportedParseModeError(parse_mode)
        parsed = parser(text)
    else:
        parsed = ParsedText(text, [dict(e) for e in entities or []])
    return _trim(parsed)
