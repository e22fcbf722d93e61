"""Random requests at every route of the web chat and the office pages — methods, paths,
form fields, cookies and headers an outsider may send: never a 5xx, every answer with the
security headers, and nothing of a real visitor's changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from bot.pages.identity import Buckets
from forms.definition import programme
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from models.db import connect
from testkit.web import WebVisitor
from tests.chat.test_web import serving

FAST = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ROUTES = [
    "/", "/say", "/press", "/handoff", "/inbox/dismiss", "/s/abc123", "/c/abc", "/c/abc/qr.png",
    "/f/1.0", "/static/style.css", "/favicon.ico", "/unsubscribe/x.y", "/office", "/office/",
    "/office/signin", "/office/signin/abc", "/office/signout", "/office/language",
    "/office/applications", "/office/applications/1", "/office/applications/999999999999/draft",
    "/office/events", "/office/events/1", "/office/events/1/close", "/office/events/1/qr.png",
    "/office/events/1/report.xlsx", "/office/export.xlsx", "/office/audit",
    "/office/broadcasts", "/office/broadcasts/new", "/office/broadcasts/preview",
    "/office/broadcasts/1/stop",
]  # fmt: skip
NASTY = st.sampled_from(
    ["²", "٣", "9" * 5000, "\x00", "\u202e", "%0a", "-1", "1e9", "null", "<script>", "../../etc"]
)
TEXT = st.one_of(NASTY, st.text(max_size=300))
FIELDS = st.dictionaries(
    st.sampled_from(
        [
            "csrf",
            "step",
            "text",
            "data",
            "notice",
            "link",
            "locale",
            "audience",
            "title",
            "date",
            "place",
            "closes",
            "to",
        ]
    ),
    TEXT,
    max_size=6,
)
SECURITY = ("Content-Security-Policy", "X-Content-Type-Options")


@asynccontextmanager
async def site(database: Path) -> AsyncIterator[URL]:
    engine, sessions = await connect(f"sqlite:///{database}")
    router = Router(Context(sessions=sessions, form=programme("nansha-2024")))
    fast = Buckets(rate=100_000, burst=100_000)  # the fuzz is not a flood: the limits apart
    try:
        async with serving(router, per_visitor=fast, per_address=fast) as url:
            yield url
    finally:
        await engine.dispose()


def header_value(text: str) -> str:
    """What an HTTP client can put in a header: no line breaks (aiohttp refuses them)."""
    return "".join(c for c in text if c.isprintable() and c not in "\r\n")[:500]


@pytest.mark.timeout(600)
def test_random_requests_never_get_a_server_error(tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        url = runner.run(stack.enter_async_context(site(tmp_path / "fuzz.db")))
        http, visitor = runner.run(_clients(url))
        page = runner.run(visitor.get("/"))
        runner.run(visitor.send("/apply"))  # a real visitor mid-interview
        before = runner.run(visitor.get("/")).html
        try:

            @FAST
            @given(
                method=st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE"]),
                path=st.one_of(st.sampled_from(ROUTES), TEXT.map(lambda t: "/" + t)),
                fields=FIELDS,
                cookie=st.one_of(st.none(), TEXT, st.just(visitor.cookie() or "")),
                headers=st.dictionaries(
                    st.sampled_from(
                        [
                            "X-Forwarded-For",
                            "Accept-Language",
                            "User-Agent",
                            "Origin",
                            "Referer",
                            "Content-Type",
                        ]
                    ),
                    TEXT.map(header_value),
                    max_size=3,
                ),
            )
            def example(
                method: str, path: str, fields: dict[str, str], cookie: str | None,
                headers: dict[str, str],
            ) -> None:  # fmt: skip
                status, answered = runner.run(
                    _request(http, url, method, path, fields, cookie, headers)
                )
                assert status < 500, (method, path, fields, cookie, headers)
                assert all(name in answered for name in SECURITY), (method, path, answered)

            example()
            # The real visitor's conversation is where they left it.
            assert runner.run(visitor.get("/")).html == before
            assert page.status == 200
        finally:
            runner.run(visitor.close())
            runner.run(http.close())
            runner.run(stack.aclose())


async def _clients(url: URL) -> tuple[aiohttp.ClientSession, WebVisitor]:
    """An outsider's client (keeps no cookie) and a real visitor's browser."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()), WebVisitor(url)


async def _request(
    http: aiohttp.ClientSession, base: URL, method: str, path: str, fields: dict[str, str],
    cookie: str | None, headers: dict[str, str],
) -> tuple[int, dict[str, str]]:  # fmt: skip
    try:  # always this server: "//host" is a path here, never another host
        target = URL.build(scheme=base.scheme, host=base.host, port=base.port, path=path)
    except ValueError:
        return 400, dict.fromkeys(SECURITY, "")  # not a URL a client could send
    sent = dict(headers)
    if cookie is not None:
        sent["Cookie"] = "patentbot=" + header_value(cookie)
    data = fields if method == "POST" else None
    async with http.request(
        method, target, data=data, headers=sent, allow_redirects=False
    ) as response:
        await response.read()
        return response.status, dict(response.headers)
