"""The web chat over HTTP, as a browser without JavaScript uses it: the same conversation,
one form post at a time, and what a site on the open internet owes its visitors."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from ipaddress import IPv4Network, ip_network

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import func, select
from yarl import URL

from bot.pages.identity import Buckets, Signer
from bot.transports.web.chat import WebChat
from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.router import Outcome, Router
from handlers.kernel.types import Event
from handlers.training.survey import survey_form
from locales import translator
from models.tables import Answer, OutboxEntry, User
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import current_question, run_interview
from testkit.web import WebVisitor, answer_survey_in_pages
from tests.chat.test_survey import new_event, report_of

t = translator("zh_CN")


@asynccontextmanager
async def serving(
    router: Router, trusted_proxies: Sequence[IPv4Network] = (), **limits: Buckets
) -> AsyncIterator[URL]:
    chat = WebChat(
        router, Signer(b"test-key"), secure_cookie=False, trusted_proxies=trusted_proxies,
        **limits,
    )  # fmt: skip
    app = chat.app()
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server.make_url("/")
    await server.close()


@pytest.fixture
async def site(router: Router) -> AsyncIterator[URL]:
    # A test answers faster than any person: the limits are tested on their own.
    fast = Buckets(rate=1000, burst=1000)
    async with serving(router, per_visitor=fast, per_address=fast) as url:
        yield url


@pytest.fixture
async def browser(site: URL) -> AsyncIterator[WebVisitor]:
    visitor = WebVisitor(site)
    yield visitor
    await visitor.close()


async def count(router: Router, model: type, *where: object) -> int:
    async with router.context.sessions() as session:
        return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


async def test_a_first_visit_greets_in_the_browsers_language(site: URL) -> None:
    for language, lang, locale in (
        ("zh-CN,zh;q=0.9", "zh-CN", "zh_CN"),
        ("zh-TW,zh;q=0.9", "zh-HK", "zh_HK"),
        ("en-GB,en;q=0.8", "en", "en"),
    ):
        visitor = WebVisitor(site, language)
        page = await visitor.get("/")
        tr = translator(locale)
        assert page.status == 200 and page.lang == lang
        assert plain(tr("privacy.notice_web")) in visitor.text  # no Telegram account here
        assert page.buttons[0].text == tr("button.apply")
        await visitor.close()


async def test_the_cookie_is_signed_and_kept_from_scripts(site: URL) -> None:
    visitor = WebVisitor(site)
    async with visitor.http.get(site) as response:
        cookie = response.cookies["patentbot"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
        headers = response.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    user_id, _, mac = cookie.value.partition(".")
    assert int(user_id) < -(2**53)  # never a Telegram user's or group's id
    forged = WebVisitor(site)
    # The first character: all its bits count (a signature's last base64 character has
    # padding bits, and changing those changes nothing).
    other = "A" if mac[0] != "A" else "B"
    forged.http.cookie_jar.update_cookies({"patentbot": f"{user_id}.{other}{mac[1:]}"}, site)
    await forged.get("/")
    assert forged.cookie() != cookie.value  # a new visitor, not the one it claimed to be
    await visitor.close()
    await forged.close()


async def test_a_whole_interview_in_the_browser(
    router: Router, form: Form, browser: WebVisitor
) -> None:
    await browser.get("/")
    await browser.press(t("button.apply"))
    result = await run_interview(browser, form, ELIGIBLE_ZH)
    assert plain(t("result.eligible")) in result and "5.13%" in result
    assert not any(link.startswith(("http:", "https:", "//")) for link in browser.page.links)


async def test_a_reload_or_a_double_tap_never_answers_twice(
    router: Router, browser: WebVisitor
) -> None:
    await browser.get("/")
    await browser.press(t("button.apply"))
    form = dict(browser.page.hidden, text="甲公司")
    await browser.post("/say", form)
    await browser.post("/say", form)  # the same form again: back button, double tap
    assert await count(router, Answer) == 1
    assert current_question(router.context.form, "zh_CN", browser.text) == "uscc"


async def test_a_post_without_its_token_is_refused(router: Router, browser: WebVisitor) -> None:
    await browser.get("/")
    await browser.press(t("button.apply"))
    page = await browser.post("/say", {"step": browser.page.hidden["step"], "text": "甲公司"})
    assert page.status == 403 and t("web.forged") in browser.text
    stranger = WebVisitor(browser.base)  # no cookie at all: another site's form
    page = await stranger.post("/say", {**browser.page.hidden, "text": "甲公司"})
    assert page.status == 403 and t("web.expired") in stranger.text
    await stranger.close()
    assert await count(router, Answer) == 0


async def test_what_a_visitor_types_is_shown_as_text(browser: WebVisitor) -> None:
    await browser.get("/")
    await browser.press(t("button.apply"))
    await browser.send("<script>alert(1)</script>")
    await browser.press(t("button.back"))
    assert "<script>" not in browser.page.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in browser.page.html
    assert "<script>alert(1)</script>" in browser.text  # shown as typed


async def test_an_oversized_post_is_refused_in_the_visitors_language(
    router: Router, browser: WebVisitor
) -> None:
    await browser.get("/")
    page = await browser.post("/say", {**browser.page.hidden, "text": "长" * 70_000})
    assert page.status == 413 and t("web.too_large") in browser.text
    assert await count(router, Answer) == 0


async def test_a_flood_from_one_visitor_does_not_slow_another(router: Router) -> None:
    async with serving(router) as site:  # the limits as deployed
        flooder, other = WebVisitor(site), WebVisitor(site)
        await flooder.get("/")
        hidden = dict(flooder.page.hidden)
        said = [await flooder.post("/say", {**hidden, "text": "x"}) for _ in range(40)]
        assert 429 in [page.status for page in said] and t("web.too_fast") in flooder.text
        await other.get("/")
        assert (await other.press(t("button.apply"))).status == 200
        await flooder.close()
        await other.close()


async def test_an_attendee_answers_a_survey_from_its_address(
    router: Router, form: Form, site: URL
) -> None:
    event = await new_event(router, form)
    attendee = WebVisitor(site)
    await attendee.get(f"/s/{event.code}")  # the survey's page, nothing stored yet
    assert plain(t("privacy.notice_survey")) in attendee.text
    await answer_survey_in_pages(attendee, survey_form(form), "满意")
    report = await report_of(router, form, event)
    assert report.valid == 1
    await attendee.get(f"/s/{event.code}")  # scanned again: change, never a second one
    assert (await report_of(router, form, event)).valid == 1
    await attendee.close()


async def test_a_draft_downloads_for_its_owner_only(
    router: Router, form: Form, site: URL, browser: WebVisitor
) -> None:
    await browser.get("/")
    await browser.press(t("button.apply"))
    await run_interview(browser, form, ELIGIBLE_ZH)
    await browser.send("/draft")
    await browser.press(t("button.draft_now"))
    link = next(href for href in browser.page.links if href.startswith("/f/"))
    async with browser.http.get(site.join(URL(link))) as response:
        assert response.status == 200
        assert (await response.read()).startswith(b"PK")  # a .docx is a zip
        assert "attachment" in response.headers["Content-Disposition"]
    other = WebVisitor(site)
    await other.get("/")
    async with other.http.get(site.join(URL(link))) as response:
        assert response.status == 404
    await other.close()
    wechat = WebVisitor(site, agent="Mozilla/5.0 MicroMessenger/8.0.47")
    wechat.http.cookie_jar.update_cookies({"patentbot": browser.cookie() or ""}, site)
    await wechat.get("/")
    assert t("web.wechat_download") in plain(wechat.page.html)  # how to open it elsewhere
    await wechat.close()


async def test_delete_on_the_web_forgets_the_visitor_and_the_cookie(
    router: Router, browser: WebVisitor
) -> None:
    await browser.get("/")
    user_id = int((browser.cookie() or "").split(".")[0])
    await browser.press(t("button.apply"))
    await browser.send("甲公司")
    await browser.send("/delete")
    await browser.press(t("button.delete_confirm"))
    assert t("delete.done") in browser.text
    assert browser.cookie() is None
    assert await count(router, User, User.id == user_id) == 0  # type: ignore[arg-type]
    # Their screen, files included: the outbox's rows of their steps.
    assert await count(router, OutboxEntry, OutboxEntry.stream == f"web:{user_id}") == 0
    assert await count(router, OutboxEntry, OutboxEntry.user_id == user_id) == 0


async def test_two_browsers_are_two_visitors(site: URL) -> None:
    first, second = WebVisitor(site), WebVisitor(site)
    await asyncio.gather(first.get("/"), second.get("/"))
    assert first.cookie() and second.cookie() and first.cookie() != second.cookie()
    await first.close()
    await second.close()


async def test_a_conversation_moves_to_another_device_once(
    router: Router, site: URL, browser: WebVisitor
) -> None:
    await browser.get("/")
    await browser.press(t("button.apply"))
    await browser.send("甲公司")  # the computer: the first answer
    page = await browser.post("/handoff", {"csrf": browser.page.hidden["csrf"]})
    link = next(word for word in browser.text.split() if "/c/" in word)
    assert link.startswith(str(site).rstrip("/"))
    qr = next(src for src in page.links if src.endswith("/qr.png"))
    async with browser.http.get(site.join(URL(qr))) as response:
        assert response.status == 200 and (await response.read()).startswith(b"\x89PNG")
    phone = WebVisitor(site)
    await phone.get(URL(link).path)  # what it would take, and a button: nothing taken yet
    assert "甲公司" in phone.page.html and t("web.handoff_take") in phone.page.html
    await phone.get(URL(link).path)  # looked at twice (a preview, then the person)
    await phone.post(URL(link).path, {"csrf": csrf_of(phone.page.html)})
    assert current_question(router.context.form, "zh_CN", phone.text) == "uscc"  # where it was
    await phone.send(ELIGIBLE_ZH["uscc"])  # and it goes on there
    assert await count(router, Answer) == 2
    colleague = WebVisitor(site)
    page = await colleague.get(URL(link).path)  # spent: it works once
    assert page.status == 410 and t("web.handoff_spent") in colleague.text
    await phone.close()
    await colleague.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def test_a_handoff_link_never_replaces_a_conversation_in_progress(
    router: Router, site: URL
) -> None:
    """An attacker's link (or its QR code) opened by someone mid-interview: they are told,
    keep their own conversation, and what they type next stays theirs."""
    attacker, victim = WebVisitor(site), WebVisitor(site)
    await attacker.get("/")
    await attacker.press(t("button.apply"))
    await attacker.post("/handoff", {"csrf": attacker.page.hidden["csrf"]})
    link = URL(next(word for word in attacker.text.split() if "/c/" in word)).path
    await victim.get("/")
    await victim.press(t("button.apply"))
    await victim.send("乙公司")
    own = victim.cookie()
    page = await victim.get(link)
    assert plain(t("web.handoff_busy")) in plain(page.html) and "csrf" not in page.html
    forged = await victim.post(link, {"csrf": "x"})
    assert forged.status == 403 and victim.cookie() == own
    assert current_question(router.context.form, "zh_CN", (await victim.get("/")).html)
    await attacker.close()
    await victim.close()


async def test_a_link_to_another_device_expires(
    router: Router, site: URL, browser: WebVisitor
) -> None:
    from datetime import timedelta

    from models.tables import WebHandoff, utcnow

    await browser.get("/")
    await browser.post("/handoff", {"csrf": browser.page.hidden["csrf"]})
    async with router.context.sessions() as session:
        handoff = (await session.exec(select(WebHandoff))).one()
        handoff.expires_at = utcnow() - timedelta(seconds=1)  # a quarter of an hour later
        session.add(handoff)
        await session.commit()
    other = WebVisitor(site)
    page = await other.get(f"/c/{handoff.token}")
    assert page.status == 410 and other.cookie() != browser.cookie()
    await other.close()


async def test_behind_a_proxy_each_visitor_address_has_its_own_limit(router: Router) -> None:
    """nginx on this host (TRUSTED_PROXIES=127.0.0.1) appends the visitor's address to
    X-Forwarded-For: an office flooding from one address does not stop a visitor from
    another."""
    nginx = (ip_network("127.0.0.1/32"),)
    limits = {"per_visitor": Buckets(1000, 1000), "per_address": Buckets(1, 5)}
    async with serving(router, trusted_proxies=nginx, **limits) as site:
        office, home = WebVisitor(site), WebVisitor(site)
        office.http.headers["X-Forwarded-For"] = "203.0.113.7"
        home.http.headers["X-Forwarded-For"] = "203.0.113.8"
        await office.get("/")
        said = [await office.post("/say", {**office.page.hidden, "text": "x"}) for _ in range(8)]
        assert 429 in [page.status for page in said]
        await home.get("/")
        assert (await home.press(t("button.apply"))).status == 200
        await office.close()
        await home.close()


async def test_without_a_trusted_proxy_x_forwarded_for_is_not_believed(router: Router) -> None:
    """No TRUSTED_PROXIES: a header a client invents picks no bucket of its own — the
    flood and its inventions share the peer's."""
    async with serving(router, per_visitor=Buckets(1000, 1000), per_address=Buckets(1, 5)) as site:
        flooder, other = WebVisitor(site), WebVisitor(site)
        await flooder.get("/")
        await other.get("/")
        for n in range(8):
            flooder.http.headers["X-Forwarded-For"] = f"198.51.100.{n}"  # a new one each time
            await flooder.post("/say", {**flooder.page.hidden, "text": "x"})
        other.http.headers["X-Forwarded-For"] = "198.51.100.200"
        assert (await other.press(t("button.apply"))).status == 429  # the same peer: spent
        await flooder.close()
        await other.close()


async def test_posts_without_a_visitor_spend_no_one_s_budget(router: Router) -> None:
    """Junk posts with no cookie and no token are refused by their handler (403) and do
    not lock out a real visitor at the same address."""
    async with serving(router, per_visitor=Buckets(1000, 1000), per_address=Buckets(1, 5)) as site:
        visitor = WebVisitor(site)
        await visitor.get("/")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as junk:
            for _ in range(20):
                async with junk.post(site.join(URL("/say")), data={"text": "x"}) as response:
                    assert response.status == 403
        assert (await visitor.press(t("button.apply"))).status == 200
        await visitor.close()


def test_the_limiter_keeps_a_bounded_number_of_addresses() -> None:
    limiter = Buckets(rate=1, burst=5, limit=1000)
    for n in range(200_000):  # a flood of distinct addresses
        limiter.allow(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", now=n / 1000)
    assert len(limiter._level) == 1000
    for _ in range(5):
        assert limiter.allow("203.0.113.9", now=300.0)
    assert not limiter.allow("203.0.113.9", now=300.0)  # the newest is still remembered


async def test_a_server_killed_after_storing_an_answer_shows_the_next_question(
    router: Router, form: Form
) -> None:
    """The answer is stored, the server dies before the page it leads to: after the
    restart the visitor sees the question they are at, not the one they answered."""
    real_answer = router.answer

    async def handle_then_die(event: Event, send: object = None) -> Outcome:
        await real_answer(event)
        raise RuntimeError("killed")  # the process is gone before the page is shown

    fast = Buckets(rate=1000, burst=1000)
    async with serving(router, per_visitor=fast, per_address=fast) as site:
        browser = WebVisitor(site)
        try:
            await browser.get("/")
            await browser.press(t("button.apply"))
            router.answer = handle_then_die  # type: ignore[method-assign]
            assert (await browser.send("甲公司")).status == 500
            restarted = Router(router.context)
            async with serving(restarted, per_visitor=fast, per_address=fast) as site:
                browser.base = site
                await browser.get("/")
                assert current_question(form, "zh_CN", browser.text) == "uscc"
                await browser.send(ELIGIBLE_ZH["uscc"])
                assert current_question(form, "zh_CN", browser.text) == "contact_name"
        finally:
            await browser.close()
    assert await count(router, Answer) == 2  # each answer once
