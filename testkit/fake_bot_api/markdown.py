"""``parse_mode=MarkdownV2`` and the legacy ``Markdown`` parsed as TDLib parses them."""

from __future__ import annotations

from typing import Any

from .entities import EntityParseError, ParsedText, link_entity, sorted_entities
from .reading import EOF, SPACE, Output, at, byte_offset

_MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!"

# TDLib names entity types in its MarkdownV2 error messages with these spellings.
_MARKDOWN_V2_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown_v2(text: str) -> ParsedText:
    """Parse ``parse_mode=MarkdownV2``: every reserved character must be escaped."""
    out = Output()
    entities: list[dict[str, Any]] = []
    # (type, argument, utf16 offset, byte-offset index into text, output index)
    stack: list[tuple[str, str, int, int, int]] = []
    size = len(text)
    i = 0
    at_line_start = True
    quote_start: tuple[int, bool] | None = None  # (utf16 offset, expandable)

    def reserved_error(index: int) -> EntityParseError:
        return EntityParseError(
            f"Character '{text[index]}' is reserved and must be escaped with the preceding '\\'"
        )

    while i < size:
        char = text[i]
        line_start = at_line_start
        at_line_start = False
        if char == "\\" and i + 1 < size and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue

        in_code = bool(stack) and stack[-1][0] in {"code", "pre", "pre_code"}
        if line_start and not stack and not in_code:
            if char == ">" or text.startswith("**>", i):
                expandable = char == "*"
                if quote_start is None:
                    quote_start = (out.utf16, expandable)
                i += 3 if expandable else 1
                continue
            if quote_start is not None:
                _close_quote(quote_start, out, entities)
                quote_start = None

        if (
            quote_start is not None
            and quote_start[1]
            and not stack
            and text.startswith("||", i)
            and at(text, i + 2) in {"\n", EOF}
        ):
            # "||" at the end of an expandable quote's last line closes the quote.
            _close_quote(quote_start, out, entities)
            quote_start = None
            i += 2
            continue

        reserved = "`" if in_code else _MARKDOWN_V2_RESERVED
        if char not in reserved:
            out.add(char)
            if char == "\n":
                at_line_start = True
            i += 1
            continue

        if stack and _ends_markdown_v2_entity(stack[-1][0], text, i):
            kind, argument, offset, _, output_index = stack.pop()
            if kind in {"underline", "spoiler"}:
                i += 1
            elif kind in {"pre", "pre_code"}:
                i += 2
            elif kind in {"text_link", "custom_emoji"}:
                argument, i = _markdown_v2_link_target(text, i, kind, out, output_index)
            length = out.utf16 - offset
            if length > 0:
                entities.append(_markdown_entity(kind, argument, offset, length))
            i += 1
            continue

        begin_index = i
        argument = ""
        if char == "_":
            if at(text, i + 1) == "_":
                kind = "underline"
                i += 1
            else:
                kind = "italic"
        elif char == "*":
            kind = "bold"
        elif char == "~":
            kind = "strikethrough"
        elif char == "|":
            if at(text, i + 1) != "|":
                raise reserved_error(i)
            kind = "spoiler"
            i += 1
        elif char == "[":
            kind = "text_link"
        elif char == "`":
            if text.startswith("```", i):
                kind, argument, i = _open_pre(text, i + 3)
                i -= 1
            else:
                kind = "code"
        elif char == "!":
            if at(text, i + 1) != "[":
                raise reserved_error(i)
            kind = "custom_emoji"
            i += 1
        else:
            raise reserved_error(i)
        stack.append((kind, argument, out.utf16, begin_index, len(out)))
        i += 1

    if stack:
        kind, _, _, begin_index, _ = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MARKDOWN_V2_TYPE_NAMES[kind]} entity at byte offset "
            f"{byte_offset(text, begin_index)}"
        )
    if quote_start is not None:
        _close_quote(quote_start, out, entities)
    return ParsedText(out.value(), sorted_entities(entities))


def _close_quote(start: tuple[int, bool], out: Output, entities: list[dict[str, Any]]) -> None:
    offset, expandable = start
    length = out.utf16 - offset
    if out.chars and out.chars[-1] == "\n":
        length -= 1  # the line break that ends the quote is not part of it
    if length > 0:
        kind = "expandable_blockquote" if expandable else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def _ends_markdown_v2_entity(kind: str, text: str, i: int) -> bool:
    char = text[i]
    following = at(text, i + 1)
    if kind == "bold":
        return char == "*"
    if kind == "italic":
        return char == "_" and following != "_"
    if kind == "underline":
        return char == "_" and following == "_"
    if kind == "strikethrough":
        return char == "~"
    if kind == "spoiler":
        return char == "|" and following == "|"
    if kind == "code":
        return char == "`"
    if kind in {"pre", "pre_code"}:
        return text.startswith("```", i)
    return char == "]"  # text_link, custom_emoji


def _open_pre(text: str, i: int) -> tuple[str, str, int]:
    """Handle the language tag and first newline after an opening ```."""
    kind = "pre"
    argument = ""
    language_end = i
    while at(text, language_end) not in SPACE and at(text, language_end) != "`":
        language_end += 1
    if i != language_end and language_end < len(text) and text[language_end] != "`":
        kind = "pre_code"
        argument = text[i:language_end]
        i = language_end
    if at(text, i) in {"\n", "\r"}:
        pair = at(text, i + 1)
        i += 2 if pair in {"\n", "\r"} and pair != text[i] else 1
    return kind, argument, i


def _markdown_v2_link_target(
    text: str, i: int, kind: str, out: Output, output_index: int
) -> tuple[str, int]:
    """Read ``(url)`` after the closing ']' (i points at ']'); returns url and index."""
    if at(text, i + 1) != "(":
        if kind == "custom_emoji":
            raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
        return out.text_since(output_index), i
    i += 2
    url_begin = i
    url: list[str] = []
    while i < len(text) and text[i] != ")":
        if text[i] == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126:
            url.append(text[i + 1])
            i += 2
            continue
        url.append(text[i])
        i += 1
    if at(text, i) != ")":
        raise EntityParseError(
            f"Can't find end of a URL at byte offset {byte_offset(text, url_begin)}"
        )
    target = "".join(url)
    if kind == "custom_emoji":
        prefix = "tg://emoji?id="
        if not target.startswith(prefix) or not target[len(prefix) :].isdigit():
            raise EntityParseError("Custom emoji URL must have an emoji identifier")
        return target[len(prefix) :], i
    return target, i


def _markdown_entity(kind: str, argument: str, offset: int, length: int) -> dict[str, Any]:
    if kind == "pre_code":
        return {"type": "pre", "offset": offset, "length": length, "language": argument}
    if kind == "custom_emoji":
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": argument,
        }
    if kind == "text_link":
        link = link_entity(argument, offset, length)
        # An unusable URL degrades to plain text, as in TDLib.
        return link if link is not None else {"type": "_drop", "offset": 0, "length": 0}
    return {"type": kind, "offset": offset, "length": length}


def parse_markdown(text: str) -> ParsedText:
    """Parse legacy ``parse_mode=Markdown`` (no nesting, ``*_`[`` only)."""
    out = Output()
    entities: list[dict[str, Any]] = []
    size = len(text)
    i = 0
    while i < size:
        char = text[i]
        if char == "\\" and at(text, i + 1) in {"_", "*", "`", "["}:
            out.add(text[i + 1])
            i += 2
            continue
        if char not in {"_", "*", "`", "["}:
            out.add(char)
            i += 1
            continue
        begin = i
        end_char = "]" if char == "[" else char
        i += 1
        is_pre = False
        language = ""
        if char == "`" and text.startswith("``", i):
            is_pre = True
            kind, language, i = _open_pre(text, i + 2)
        offset = out.utf16
        output_index = len(out)
        while i < size and (text[i] != end_char or (is_pre and not text.startswith("```", i))):
            out.add(text[i])
            i += 1
        if i >= size:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {byte_offset(text, begin)}"
            )
        length = out.utf16 - offset
        if char == "[":
            url = out.text_since(output_index)
            if at(text, i + 1) == "(":
                i += 2
                url_chars: list[str] = []
                while i < size and text[i] != ")":
                    url_chars.append(text[i])
                    i += 1
                url = "".join(url_chars)
            if length > 0:
                link = link_entity(url, offset, length)
                if link is not None:
                    entities.append(link)
        elif length > 0:
            if is_pre:
                entity: dict[str, Any] = {"type": "pre", "offset": offset, "length": length}
                if language:
                    entity["language"] = language
                entities.append(entity)
            else:
                kind = {"_": "italic", "*": "bold", "`": "code"}[char]
                entities.append({"type": kind, "offset": offset, "length": length})
        if is_pre:
            i += 2
        i += 1
    return ParsedText(out.value(), sorted_entities(entities))
