"""Broadcast text (Telegram HTML) on a web page: the office's preview and a web
visitor's notice show it as the web chat shows the bot's HTML."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

from markupsafe import Markup


class _Shown(HTMLParser):
    """The message as the web chat shows bot HTML, with only the attributes Telegram reads
    kept (a link's address, a spoiler's or code block's class): text the officer typed
    can never become a script or a handler on the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = ""
        for name, value in attrs:
            if tag == "a" and name == "href" and (value or "").startswith(("http", "tg:")):
                kept += f' href="{escape(value or "")}" rel="noopener noreferrer"'
            elif name == "class" and tag in ("span", "code"):
                kept += f' class="{escape(value or "")}"'
        self.out.append(f"<{tag}{kept}>")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data, quote=False))


def shown(text: str) -> Markup:
    """Only for text ``check_message`` accepted (its tags are Telegram's, and closed)."""
    parser = _Shown()
    parser.feed(text)
    parser.close()
    return Markup("".join(parser.out))
