"""Broadcast text (Telegram HTML) on a web page: the office's preview and a web
visitor's notice show it as the web chat shows the bot's HTML, sanitised by nh3 (the
Ammonia sanitiser) to what Telegram itself reads."""

from __future__ import annotations

import nh3
from markupsafe import Markup

# Telegram's formatting tags; anything else (a <script>, an <img>) loses its tag, and a
# script or a style its content too.
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
TAGS |= {"span", "tg-spoiler", "blockquote"}

# Only the attributes Telegram reads: a link's address (http, https or tg, in any case;
# relative addresses point into this site and Telegram takes none), a spoiler's class.
_CLEANER = nh3.Cleaner(
    tags=TAGS,
    attributes={"a": {"href"}},
    allowed_classes={"span": {"tg-spoiler"}},
    url_schemes={"http", "https", "tg"},
    url_relative="deny",
    link_rel="noopener noreferrer",
)


def shown(text: str) -> Markup:
    """Text the officer typed can never become a script or a handler on the page."""
    return Markup(_CLEANER.clean(text))
