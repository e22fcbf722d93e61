"""``parse_mode=HTML`` parsed as TDLib parses it: the same tags, attributes and entities
accepted, the same mistakes refused with the same wording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .entities import EntityParseError, ParsedText, link_entity, sorted_entities
from .reading import EOF, SPACE, Output, at, byte_offset, is_ascii_alnum

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


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at pos like TDLib: unknown entities stay literal text."""
    end = pos + 1
    code = 0
    if at(text, end) == "#":
        end += 1
        if at(text, end) == "x":
            end += 1
            while at(text, end) in "0123456789abcdefABCDEF" and at(text, end) != EOF:
                code = code * 16 + int(text[end], 16)
                end += 1
                if code >= 0x10FFFF:
                    return None
        else:
            while at(text, end).isdigit() and at(text, end).isascii():
                code = code * 10 + int(text[end])
                end += 1
                if code >= 0x10FFFF:
                    return None
        if code == 0 or end - pos >= 10 or 0xD800 <= code <= 0xDFFF:
            return None
        decoded = chr(code)
    else:
        while at(text, end).isascii() and at(text, end).isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_HTML_ENTITIES:
            return None
        decoded = _NAMED_HTML_ENTITIES[name]
    if at(text, end) == ";":
        end += 1
    return decoded, end


@dataclass
class _OpenTag:
    tag: str
    argument: str
    utf16_offset: int
    output_index: int


def parse_html(text: str) -> ParsedText:
    """Parse ``parse_mode=HTML`` text, raising EntityParseError like Telegram would."""
    out = Output()
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
        if at(text, i) != "/":
            while at(text, i) not in SPACE and at(text, i) != ">":
                i += 1
            if at(text, i) == EOF:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {byte_offset(text, begin)}"
                )
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {byte_offset(text, begin)}'
                )
            argument, i = _parse_html_attributes(text, i, tag, begin)
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{byte_offset(text, begin)}"
                )
            stack.append(_OpenTag(tag, argument, out.utf16, len(out)))
            i += 1  # past '>'
            continue

        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(text, begin)}")
        while at(text, i) not in SPACE and at(text, i) != ">":
            i += 1
        end_tag = text[begin + 2 : i]
        while at(text, i) in SPACE and at(text, i) != EOF:
            i += 1
        if at(text, i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(text, begin)}")
        opened = stack[-1]
        if end_tag and end_tag != opened.tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {byte_offset(text, begin)}, "
                f'expected "</{opened.tag}>", found "</{end_tag}>"'
            )
        _close_html_tag(opened, out, entities)
        stack.pop()
        i += 1  # past '>'

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return ParsedText(out.value(), sorted_entities(entities))


def _parse_html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[str, int]:
    """Read attributes up to the closing '>' (returns the tag argument and its index)."""
    argument = ""
    where = byte_offset(text, begin)
    while at(text, i) != ">":
        while at(text, i) != EOF and at(text, i) in SPACE:
            i += 1
        if at(text, i) == ">":
            break
        name_begin = i
        while at(text, i) not in SPACE and at(text, i) not in {"=", ">"}:
            i += 1
        name = text[name_begin:i]
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {where}'
            )
        while at(text, i) != EOF and at(text, i) in SPACE:
            i += 1
        if at(text, i) == ">" or (
            at(text, i) != "=" and at(text, i - 1) in SPACE and at(text, i) != EOF
        ):
            # A bare attribute such as <blockquote expandable> has an empty value.
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        if at(text, i) != "=":
            raise EntityParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {where}'
            )
        i += 1
        while at(text, i) != EOF and at(text, i) in SPACE:
            i += 1
        if at(text, i) == EOF:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {where}')

        value_chars: list[str] = []
        quote = at(text, i)
        if quote not in {"'", '"'}:
            token_begin = i
            while is_ascii_alnum(at(text, i)) or at(text, i) in {".", "-"}:
                i += 1
            value_chars.append(text[token_begin:i].lower())
            if at(text, i) not in SPACE and at(text, i) != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {byte_offset(text, token_begin)}"
                )
        else:
            i += 1
            while at(text, i) != quote and at(text, i) != EOF:
                if text[i] == "&":
                    decoded = _decode_html_entity(text, i)
                    if decoded is not None:
                        value_chars.append(decoded[0])
                        i = decoded[1]
                        continue
                value_chars.append(text[i])
                i += 1
            if at(text, i) == quote:
                i += 1
        if at(text, i) == EOF:
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


def _close_html_tag(opened: _OpenTag, out: Output, entities: list[dict[str, Any]]) -> None:
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
        link = link_entity(url, offset, length)
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
