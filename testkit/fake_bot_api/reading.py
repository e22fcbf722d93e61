"""How Telegram's markup parsers read their input: character by character with a NUL past
the end (as TDLib does), counting the output's UTF-16 offsets and the input's UTF-8 bytes."""

from __future__ import annotations

# TDLib's is_space(); NUL is included because its parsers read one past the end.
SPACE = frozenset(" \t\r\n\0\v")
EOF = "\0"


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
