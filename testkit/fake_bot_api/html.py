"""Message formatting parsed the way Telegram parses it (HTML, MarkdownV2, Markdown).

The parsers follow the observable behaviour of TDLib, which the Bot API server uses:
the same tags and escapes are accepted, the same mistakes are refused with the same
wording ("Unsupported start tag ...", "Character '.' is reserved ..."), and the
result is plain text plus entities with UTF-16 offsets.  A bot whose markup passes
here should pass on api.telegram.org, and one that fails there fails here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

# TDLib's is_space(); NUL is included because its parsers read one past the end.
_SPACE = frozenset(" \t\r\n\0\v")
_EOF = "\0"

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

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

# Leading/trailing characters Telegram trims from every message text and caption.
_TRIMMED = " \t\n\v\f"


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


def _byte_offset(text: str, index: int) -> int:
    # Error messages report UTF-8 byte offsets; only computed on the error path.
    return len(text[:index].encode("utf-8"))


class _Output:
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


def _at(text: str, index: int) -> str:
    return text[index] if index < len(text) else _EOF


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at pos like TDLib: unknown entities stay literal text."""
    end = pos + 1
    code = 0
    if _at(text, end) == "#":
        end += 1
        if _at(text, end) == "x":
            end += 1
            while _at(text, end) in "0123456789abcdefABCDEF" and _at(text, end) != _EOF:
                code = code * 16 + int(text[end], 16)
                end += 1
                if code >= 0x10FFFF:
                    return None
        else:
            while _at(text, end).isdigit() and _at(text, end).isascii():
                code = code * 10 + int(text[end])
                end += 1
                if code >= 0x10FFFF:
                    return None
        if code == 0 or end - pos >= 10 or 0xD800 <= code <= 0xDFFF:
            return None
        decoded = chr(code)
    else:
        while _at(text, end).isascii() and _at(text, end).isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_HTML_ENTITIES:
            return None
        decoded = _NAMED_HTML_ENTITIES[name]
    if _at(text, end) == ";":
        end += 1
    return decoded, end


@dataclass
class _OpenTag:
    tag: str
    argument: str
    utf16_offset: int
    output_index: int


def _normalize_url(url: str) -> str | None:
    url = url.strip()
    if not url or any(ch in _SPACE for ch in url):
        return None
    if "://" not in url and not url.startswith(("tg:", "mailto:")):
        url = "http://" + url
    return url


def _link_entity(url: str, offset: int, length: int) -> dict[str, Any] | None:
    prefix = "tg://user?id="
    if url.startswith(prefix) and url[len(prefix) :].isdigit():
        user = {"id": int(url[len(prefix) :]), "is_bot": False, "first_name": ""}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    normalized = _normalize_url(url)
    if normalized is None:
        # TDLib silently drops links it cannot use instead of refusing the message.
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": normalized}


def parse_html(text: str) -> ParsedText:
    """Parse ``parse_mode=HTML`` text, raising EntityParseError like Telegram would."""
    out = _Output()
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    i = 0
    size = len(text)
    while i < size:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.add(decoded[0])
                i = decoded[1]
                continue
        if char != "<":
            out.add(char)
            i += 1
            continue

        begin = i
        i += 1
        if _at(text, i) != "/":
            while _at(text, i) not in _SPACE and _at(text, i) != ">":
                i += 1
            if _at(text, i) == _EOF:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            argument, i = _parse_html_attributes(text, i, tag, begin)
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            stack.append(_OpenTag(tag, argument, out.utf16, len(out)))
            i += 1  # past '>'
            continue

        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        while _at(text, i) not in _SPACE and _at(text, i) != ">":
            i += 1
        end_tag = text[begin + 2 : i]
        while _at(text, i) in _SPACE and _at(text, i) != _EOF:
            i += 1
        if _at(text, i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        opened = stack[-1]
        if end_tag and end_tag != opened.tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{opened.tag}>", found "</{end_tag}>"'
            )
        _close_html_tag(opened, out, entities)
        stack.pop()
        i += 1  # past '>'

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return ParsedText(out.value(), _sorted_entities(entities))


def _parse_html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[str, int]:
    """Read attributes up to the closing '>' (returns the tag argument and its index)."""
    argument = ""
    where = _byte_offset(text, begin)
    while _at(text, i) != ">":
        while _at(text, i) != _EOF and _at(text, i) in _SPACE:
            i += 1
        if _at(text, i) == ">":
            break
        name_begin = i
        while _at(text, i) not in _SPACE and _at(text, i) not in {"=", ">"}:
            i += 1
        name = text[name_begin:i]
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {where}'
            )
        while _at(text, i) != _EOF and _at(text, i) in _SPACE:
            i += 1
        if _at(text, i) == ">" or (
            _at(text, i) != "=" and _at(text, i - 1) in _SPACE and _at(text, i) != _EOF
        ):
            # A bare attribute such as <blockquote expandable> has an empty value.
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        if _at(text, i) != "=":
            raise EntityParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {where}'
            )
        i += 1
        while _at(text, i) != _EOF and _at(text, i) in _SPACE:
            i += 1
        if _at(text, i) == _EOF:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {where}')

        value_chars: list[str] = []
        quote = _at(text, i)
        if quote not in {"'", '"'}:
            token_begin = i
            while _is_ascii_alnum(_at(text, i)) or _at(text, i) in {".", "-"}:
                i += 1
            value_chars.append(text[token_begin:i].lower())
            if _at(text, i) not in _SPACE and _at(text, i) != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_begin)}"
                )
        else:
            i += 1
            while _at(text, i) != quote and _at(text, i) != _EOF:
                if text[i] == "&":
                    decoded = _decode_html_entity(text, i)
                    if decoded is not None:
                        value_chars.append(decoded[0])
                        i = decoded[1]
                        continue
                value_chars.append(text[i])
                i += 1
            if _at(text, i) == quote:
                i += 1
        if _at(text, i) == _EOF:
            raise EntityParseError(f"Unclosed start tag at byte offset {where}")

        value = "".join(value_chars)
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value.removeprefix("tg-")
        elif (tag == "tg-emoji" and name == "emoji-id") or (
            tag == "blockquote" and name == "expandable"
        ):
            argument = value if tag == "tg-emoji" else "1"
    return argument, i


def _close_html_tag(opened: _OpenTag, out: _Output, entities: list[dict[str, Any]]) -> None:
    offset = opened.utf16_offset
    length = out.utf16 - offset
    if length == 0:
        return  # empty entities vanish, they are not an error
    tag = opened.tag
    if tag in _SIMPLE_HTML_ENTITY_TYPES:
        entities.append(
            {"type": _SIMPLE_HTML_ENTITY_TYPES[tag], "offset": offset, "length": length}
        )
    elif tag == "a":
        url = opened.argument or out.text_since(opened.output_index)
        link = _link_entity(url, offset, length)
        if link is not None:
            entities.append(link)
    elif tag == "tg-emoji":
        if not opened.argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": opened.argument,
            }
        )
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("_language")
        ):
            # <pre><code class="language-x">…</code></pre> is one pre entity.
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and opened.argument
        ):
            last["language"] = opened.argument
        else:
            entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if opened.argument:
                entity["_language"] = opened.argument
            entities.append(entity)


def _sorted_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for entity in entities:
        entity.pop("_language", None)
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def parse_markdown_v2(text: str) -> ParsedText:
    """Parse ``parse_mode=MarkdownV2``: every reserved character must be escaped."""
    out = _Output()
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
            and _at(text, i + 2) in {"\n", _EOF}
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
            if _at(text, i + 1) == "_":
                kind = "underline"
                i += 1
            else:
                kind = "italic"
        elif char == "*":
            kind = "bold"
        elif char == "~":
            kind = "strikethrough"
        elif char == "|":
            if _at(text, i + 1) != "|":
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
            if _at(text, i + 1) != "[":
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
            f"{_byte_offset(text, begin_index)}"
        )
    if quote_start is not None:
        _close_quote(quote_start, out, entities)
    return ParsedText(out.value(), _sorted_entities(entities))


def _close_quote(start: tuple[int, bool], out: _Output, entities: list[dict[str, Any]]) -> None:
    offset, expandable = start
    length = out.utf16 - offset
    if out.chars and out.chars[-1] == "\n":
        length -= 1  # the line break that ends the quote is not part of it
    if length > 0:
        kind = "expandable_blockquote" if expandable else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def _ends_markdown_v2_entity(kind: str, text: str, i: int) -> bool:
    char = text[i]
    following = _at(text, i + 1)
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
    while _at(text, language_end) not in _SPACE and _at(text, language_end) != "`":
        language_end += 1
    if i != language_end and language_end < len(text) and text[language_end] != "`":
        kind = "pre_code"
        argument = text[i:language_end]
        i = language_end
    if _at(text, i) in {"\n", "\r"}:
        pair = _at(text, i + 1)
        i += 2 if pair in {"\n", "\r"} and pair != text[i] else 1
    return kind, argument, i


def _markdown_v2_link_target(
    text: str, i: int, kind: str, out: _Output, output_index: int
) -> tuple[str, int]:
    """Read ``(url)`` after the closing ']' (i points at ']'); returns url and index."""
    if _at(text, i + 1) != "(":
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
    if _at(text, i) != ")":
        raise EntityParseError(
            f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
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
        link = _link_entity(argument, offset, length)
        # An unusable URL degrades to plain text, as in TDLib.
        return link if link is not None else {"type": "_drop", "offset": 0, "length": 0}
    return {"type": kind, "offset": offset, "length": length}


def parse_markdown(text: str) -> ParsedText:
    """Parse legacy ``parse_mode=Markdown`` (no nesting, ``*_`[`` only)."""
    out = _Output()
    entities: list[dict[str, Any]] = []
    size = len(text)
    i = 0
    while i < size:
        char = text[i]
        if char == "\\" and _at(text, i + 1) in {"_", "*", "`", "["}:
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
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        length = out.utf16 - offset
        if char == "[":
            url = out.text_since(output_index)
            if _at(text, i + 1) == "(":
                i += 2
                url_chars: list[str] = []
                while i < size and text[i] != ")":
                    url_chars.append(text[i])
                    i += 1
                url = "".join(url_chars)
            if length > 0:
                link = _link_entity(url, offset, length)
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
    return ParsedText(out.value(), _sorted_entities(entities))


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
