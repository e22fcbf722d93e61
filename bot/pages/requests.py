"""What the web pages read from a request and answer with, alike for the chat and the
office pages: the posted form, the visitor's address and language, a redirect."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

# The page's lang attribute for each locale (screen readers, fonts, search).
HTML_LANG = {"zh_CN": "zh-CN", "zh_HK": "zh-HK", "en": "en"}


async def posted(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """The posted form. A body that is none — not UTF-8, broken multipart, a gzip that
    does not unzip — is the sender's mistake: 400, not a traceback and a 500."""
    try:
        return await request.post()
    except (ValueError, RequestPayloadError) as e:  # UnicodeDecodeError is a ValueError
        raise web.HTTPBadRequest() from e


def see_chat() -> web.Response:
    """The answer to every post: see the chat page (a reload then only reloads it)."""
    return web.Response(status=303, headers={"Location": "/"})


def address(request: web.Request, trusted: Sequence[IPv4Network | IPv6Network] = ()) -> str:
    """The visitor's address: the peer, unless the peer is one of the ``trusted`` proxies
    (TRUSTED_PROXIES), whose X-Forwarded-For is then read from the right, past the
    proxies, to the first address none of them is. A header from anyone else is not
    believed: nobody escapes the limit, or spends another's, by inventing one."""
    peer = request.remote or ""
    if not _within(peer, trusted):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def _within(text: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        found = ip_address(text)
    except ValueError:
        return False
    return any(found in network for network in networks)


def first_language(request: web.Request) -> str | None:
    """The browser's first language ("zh-CN,zh;q=0.9" → "zh-CN")."""
    header = request.headers.get("Accept-Language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return first or None


def reachable(host: str) -> str:
    """How a browser on this machine reaches a listening address."""
    local = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"[{local}]" if ":" in local else local


def content_type(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower()
    return {
        "png": "image/png",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "json": "application/json",
    }.get(suffix, "application/octet-stream")
