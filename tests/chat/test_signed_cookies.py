"""Cookies and CSRF tokens as a browser, or someone forging one, sends them: a cookie the
bot did not sign — cut short, not ASCII, a 5,000-digit number, signed for another
purpose — is no cookie (a new visitor, the sign-in page), never an error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from yarl import URL

from bot.pages.identity import Buckets, Signer
from handlers.kernel.router import Router
from locales import translator
from testkit.office import Officer, add_officer_link
from testkit.web import WebVisitor
from tests.chat.test_web import serving

t = translator("zh_CN")
FAST = Buckets(rate=1000, burst=1000)
MALFORMED = [
    "²",
    "-²",
    "9" * 5000,
    "-" + "9" * 5000,
    "-" + "9" * 5000 + ".AAAA",
    "．",
    ".",
    "..",
    "-1.",
    "-100000000000000000000.x",
    "%FF%FE",
    "\u00e9t\u00e9",
]


@pytest.fixture
async def site(router: Router) -> AsyncIterator[URL]:
    async with serving(router, per_visitor=FAST, per_address=FAST) as url:
        yield url


async def _get(site: URL, path: str, cookie: str) -> tuple[int, str, str | None]:
    """A GET with a raw Cookie header, as a forger's script sends it."""
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        http.get(site.join(URL(path)), headers={"Cookie": cookie.encode().decode("latin-1")}) as r,
    ):
        given = r.cookies.get("patentbot")
        return r.status, await r.text(), given.value if given else None


@pytest.mark.parametrize("value", MALFORMED)
async def test_a_malformed_visitor_cookie_is_no_cookie(site: URL, value: str) -> None:
    status, page, given = await _get(site, "/", f"patentbot={value}")
    assert status == 200, page
    assert given is None or given != value  # never taken for a visitor


async def test_a_cookie_signed_for_another_purpose_names_nobody(site: URL) -> None:
    signer = Signer(b"test-key")  # the site's key
    visitor = WebVisitor(site)
    await visitor.get("/")
    user_id = int((visitor.cookie() or "").partition(".")[0])
    assert signer.visitor(visitor.cookie()) == user_id
    as_office = signer.sign("office-session", str(user_id))  # right key, wrong purpose
    assert signer.visitor(as_office) is None
    assert signer.visitor(Signer(b"another key").cookie(user_id)) is None
    await visitor.close()


async def test_one_visitors_token_is_no_good_for_another(site: URL) -> None:
    signer = Signer(b"test-key")
    first, second = -(10**17) - 1, -(10**17) - 2
    assert signer.csrf_ok(first, signer.csrf(first))
    assert not signer.csrf_ok(second, signer.csrf(first))
    assert not signer.csrf_ok(first, "²")
    assert not signer.csrf_ok(first, "")


@pytest.mark.parametrize("value", MALFORMED)
async def test_a_malformed_office_cookie_is_the_sign_in_page(site: URL, value: str) -> None:
    status, page, _ = await _get(site, "/office/", f"patentbot_office={value}")
    assert status == 200 and t("office.signin.title") in page
    assert 'href="/office/applications"' not in page


async def test_an_officers_session_and_its_forms_still_work(router: Router, site: URL) -> None:
    officer = Officer(site)
    await officer.sign_in(await add_officer_link(router, "王芳"))
    await officer.get("/office/events")
    assert officer.status == 200
    await officer.post("/office/events", {"title": "培训", "date": "2030-10-08", "place": "南沙"})
    assert officer.status == 400 and t("error.empty") in officer.html  # event_date missing
    fields = {"title": "培训", "event_date": "2030-10-08", "place": "南沙"}
    await officer.post("/office/events", fields)
    assert officer.status == 200 and "培训" in officer.html
    forged = officer.csrf[:-1] + ("A" if officer.csrf[-1] != "A" else "B")
    await officer.post("/office/signout", {"csrf": forged}, csrf=False)
    assert officer.status == 403
    await officer.close()
