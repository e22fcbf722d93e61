"""The office pages over HTTP, as an officer's browser uses them: signing in with the
link `patentbot admins add` prints, the pages, the posts; and what nobody else gets."""

from __future__ import annotations

import asyncio
import html as html_module
import logging
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update
from sqlmodel import col, select
from yarl import URL

from bot.pages.identity import Buckets
from forms.definition import Form
from handlers.kernel.context import Context
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.training.survey import survey_form
from locales import translator
from models import officers, queries
from models.db import connect
from models.tables import Channel, Flag, OfficeAudit, OfficerLink, TrainingEvent, utcnow
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, run_interview
from testkit.office import Officer, add_officer_link
from testkit.web import WebVisitor, answer_survey_in_pages
from tests.chat.test_postgres import postgres_url  # noqa: F401  (the fixture)
from tests.chat.test_web import serving
from tests.system.test_events_cli import patentbot

t = translator("zh_CN")


def terminal(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``patentbot ARGS`` typed in the server's terminal."""
    return patentbot(database_url, cwd, *args)


async def add_officer(name: str, database_url: str, cwd: Path) -> str:
    """``patentbot admins add NAME``: the link it prints."""
    added = await asyncio.to_thread(terminal, database_url, cwd, "admins", "add", name)
    assert added.returncode == 0, added.stderr
    found = re.search(r"http\S+/office/signin/\S+", added.stdout)
    assert found, added.stdout
    return found.group(0)


FAST = Buckets(rate=1000, burst=1000)  # a test posts faster than any person


@pytest.fixture
async def site(router: Router) -> AsyncIterator[URL]:
    async with serving(router, per_visitor=FAST, per_address=FAST) as url:
        yield url


@pytest.fixture
async def officer(router: Router, site: URL) -> AsyncIterator[Officer]:
    browser = Officer(site)
    await browser.sign_in(await add_officer_link(router, "王芳"))
    yield browser
    await browser.close()


async def audit(router: Router) -> list[tuple[str, str, str]]:
    async with router.context.sessions() as session:
        rows = (await session.exec(select(OfficeAudit).order_by(col(OfficeAudit.id)))).all()
    return [(r.officer_name, r.action, r.target) for r in rows]


async def seed(router: Router, form: Form, n: int) -> None:
    """``n`` submitted applications as the interview stores them (one user each):
    every third not eligible with a flag, every other in the first cluster."""
    cluster = form.question("cluster").options
    async with router.context.sessions() as session:
        for i in range(n):
            user_id = 10_000 + i
            telegram = Channel.TELEGRAM
            user = await queries.add_user(session, user_id, user_id, "zh_CN", None, telegram)
            application = await queries.add_application(session, user.id, form.id, form.version, 1)
            assert application.id is not None
            for qid, value in (
                ("enterprise_name", f"企业{i:04d}"),
                ("cluster", cluster[i % 2].id),
            ):
                await queries.record_answer(session, application.id, qid, value, None, None)
            flags = []
            if i % 3 == 0:
                flags.append(
                    Flag(
                        application_id=application.id, rule_id="rd_not_leading",
                        severity="disqualify", clause="E1b", message_key="flag.rd_not_leading",
                    )
                )  # fmt: skip
            await queries.replace_flags(session, application.id, flags)
            application.status = "submitted"
            application.submitted_at = utcnow()
            application.verdict = "not_eligible" if i % 3 == 0 else "eligible"
            session.add(application)
        await session.commit()


# --- signing in ------------------------------------------------------------------------


async def test_an_officer_signs_in_with_the_link_and_out_again(
    router: Router, site: URL, database_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    link = await add_officer("王芳", database_url, tmp_path)
    browser = Officer(site)
    await browser.get(URL(link).path)
    assert "王芳" in browser.html  # "sign in as 王芳?": a preview fetching the link uses nothing
    async with browser.http.post(
        site.join(URL("/office/signin")),
        data={"link": URL(link).path.rsplit("/", 1)[1], "csrf": browser.csrf},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        cookie = response.cookies["patentbot_office"]
    assert cookie["httponly"] and cookie["path"] == "/office" and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 0
    await browser.get("/office/")
    assert browser.status == 200 and t("office.overview.users") in browser.html
    assert "script" not in browser.html and "http" not in browser.html.replace(
        "http-equiv", ""
    )  # nothing loaded from anywhere, no script

    other = Officer(site)  # the same link, used again
    await other.get(URL(link).path)
    assert other.status == 410 and plain(t("office.signin.used")) in other.html
    await other.close()

    await browser.post("/office/signout", {})
    assert browser.status == 200 and t("office.signin.how") in browser.html
    replay = Officer(site)  # the cookie of the ended session, kept by someone
    replay.http.cookie_jar.update_cookies({"patentbot_office": cookie.value}, site)
    await replay.get("/office/")
    assert t("office.signin.how") in replay.html
    assert t("office.overview.users") not in replay.html
    await replay.close()
    await browser.close()
    assert [a[:2] for a in await audit(router)] == [("王芳", "signin"), ("王芳", "signout")]


async def test_an_expired_link_signs_nobody_in(
    router: Router, site: URL, database_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    link = await add_officer("李强", database_url, tmp_path)
    browser = Officer(site)
    await browser.get(URL(link).path)
    token = re.search(r'name="link" value="([^"]*)"', browser.html)
    assert token
    async with router.context.sessions() as session:  # a day later
        await session.exec(update(OfficerLink).values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
    await browser.post("/office/signin", {"link": token.group(1)})
    expired = t("office.signin.expired", hours=officers.LINK_HOURS)
    assert browser.status == 410 and plain(expired) in browser.html
    await browser.get("/office/")
    assert t("office.signin.how") in browser.html
    await browser.close()


async def test_the_terminal_lists_and_removes_officers(
    router: Router, officer: Officer, database_url: str, tmp_path: Path,
) -> None:  # fmt: skip
    again = await add_officer("王芳", database_url, tmp_path)  # a new browser, a new link
    assert again
    listed = await asyncio.to_thread(terminal, database_url, tmp_path, "admins", "list")
    assert "王芳" in listed.stdout
    removed = await asyncio.to_thread(terminal, database_url, tmp_path, "admins", "remove", "王芳")
    assert removed.returncode == 0
    await officer.get("/office/")
    assert t("office.signin.how") in officer.html  # removed: signed out at once
    gone = await asyncio.to_thread(terminal, database_url, tmp_path, "admins", "remove", "王芳")
    assert gone.returncode == 2 and "王芳" in gone.stderr


async def an_application_and_an_event(router: Router, form: Form, officer: Officer) -> str:
    """Something to see on every page; the event's page."""
    await seed(router, form, 1)
    fields = {"title": "秘密培训会", "event_date": "2024-10-08", "place": "南沙"}
    await officer.post("/office/events", fields)
    assert officer.status == 200
    return "/office/events/1"


# --- nobody else -----------------------------------------------------------------------


async def test_every_page_refuses_a_visitor_without_a_session(
    router: Router, form: Form, site: URL, officer: Officer
) -> None:
    event_path = await an_application_and_an_event(router, form, officer)
    pages = [
        "/office/", "/office/applications", "/office/applications/1", "/office/events",
        event_path, f"{event_path}/qr.png", f"{event_path}/chart.png",
        f"{event_path}/report.xlsx", "/office/audit",
    ]  # fmt: skip
    chat_visitor = WebVisitor(site)  # a web chat visitor: their cookie opens no office page
    await chat_visitor.get("/")
    forged = Officer(site)
    forged.http.cookie_jar.update_cookies({"patentbot_office": "abc.def"}, site)
    strangers = [Officer(site), forged]
    for path in pages:
        await officer.get(path)
        assert officer.status == 200, (path, officer.html)
        for stranger in strangers:
            async with stranger.http.get(site.join(URL(path)), allow_redirects=False) as got:
                assert got.status == 303 and got.headers["Location"] == "/office/signin", path
            await stranger.get(path)
            assert stranger.status == 200 and t("office.signin.how") in stranger.html, path
            assert "企业0000" not in stranger.html and "秘密培训会" not in stranger.html
        async with chat_visitor.http.get(site.join(URL(path)), allow_redirects=False) as response:
            assert response.status == 303, path
    for stranger in strangers:
        await stranger.close()
    await chat_visitor.close()


async def test_every_post_without_its_token_is_refused(
    router: Router, form: Form, site: URL, officer: Officer
) -> None:
    event_path = await an_application_and_an_event(router, form, officer)
    before = await audit(router)
    posts = {
        "/office/signout": {},
        "/office/language": {"locale": "en"},
        "/office/events": {"title": "伪造", "event_date": "2024-10-08", "place": "南沙"},
        f"{event_path}/close": {},
        f"{event_path}/open": {},
        "/office/applications/1/draft": {"locale": "zh_CN"},
    }
    for path, form_data in posts.items():
        for token in (None, "", "forged"):
            data = form_data if token is None else form_data | {"csrf": token}
            await officer.post(path, data, csrf=False)
            assert officer.status == 403, (path, token)
            assert plain(t("office.forged")) in officer.html
        stranger = Officer(officer.base)  # no session at all
        await stranger.post(path, form_data, csrf=False)
        assert stranger.status == 403 and t("office.signin.how") in stranger.html
        await stranger.close()
    assert await audit(router) == before  # nothing done, nothing recorded
    async with router.context.sessions() as session:
        assert len((await session.exec(select(TrainingEvent))).all()) == 1
        assert not (await session.exec(select(TrainingEvent))).one().closed
    await officer.get("/office/")
    assert officer.status == 200  # still signed in: the forged sign-out did nothing


# --- the pages -------------------------------------------------------------------------


async def test_the_overview_says_what_stats_says(
    router: Router, form: Form, officer: Officer, site: URL
) -> None:
    await seed(router, form, 6)
    visitor = WebVisitor(site)
    await visitor.get("/")
    await visitor.send("/help")  # a web chat visitor: a user of the web channel from a POST
    await visitor.close()
    html = await officer.get("/office/")
    assert officer.status == 200
    cells = re.findall(r'<td class="n">(\d+)</td>', html)
    assert cells[:3] == ["6", "1", "7"]  # 简体中文: 6 on Telegram, 1 on the web, 7
    assert "E1b" in html and t("flag.rd_not_leading.title") in html
    assert "85%" in html  # the target the events are judged against


async def test_applications_page_filter_and_sort_on_the_server(
    router: Router, form: Form, officer: Officer
) -> None:
    await seed(router, form, 230)
    html = await officer.get("/office/applications")
    assert officer.status == 200 and ">230<" in html
    ids = [int(i) for i in re.findall(r'<td class="n"><a href="/office/applications/(\d+)"', html)]
    assert ids == list(range(230, 180, -1))  # the newest 50 first
    assert 'rel="next" href="?page=2"' in html
    html = await officer.get("/office/applications?page=5")
    ids = [int(i) for i in re.findall(r'<td class="n"><a href="/office/applications/(\d+)"', html)]
    assert ids == list(range(30, 0, -1)) and 'rel="next"' not in html
    html = await officer.get("/office/applications?page=999")  # past the end: the last page
    assert "5 / 5" in html

    html = await officer.get("/office/applications?verdict=not_eligible&sort=old")
    ids = [int(i) for i in re.findall(r'<td class="n"><a href="/office/applications/(\d+)"', html)]
    assert ">77<" in html and ids[:3] == [1, 4, 7]
    assert 'href="?verdict=not_eligible&amp;sort=old&amp;page=2"' in html  # filters kept

    await officer.get("/office/applications?flag=rd_not_leading")
    assert ">77<" in officer.html
    html = await officer.get("/office/applications")
    label = t(form.question("cluster").options[0].label)
    value = re.search(r'<option value="([^"]*)">' + re.escape(label), html)
    assert value, label
    async with officer.http.get(
        officer.base.join(URL("/office/applications")),
        params={"cluster": html_module.unescape(value.group(1))},
    ) as response:
        assert ">115<" in await response.text()
    await officer.get("/office/applications?cluster=garbage&verdict=nonsense&page=x&sort=drop")
    assert officer.status == 200 and ">0<" in officer.html  # an unknown cluster matches none


async def test_one_application_with_its_history_flags_and_draft(
    router: Router, form: Form, officer: Officer
) -> None:
    await seed(router, form, 1)
    async with router.context.sessions() as session:  # the name changed after a review
        current = await queries.current_answers(session, 1)
        await queries.record_answer(
            session, 1, "enterprise_name", "新名称有限公司", None, current["enterprise_name"]
        )
        await session.commit()
    html = await officer.get("/office/applications/1")
    assert officer.status == 200
    assert html.index("新名称有限公司") < html.index("企业0000")  # newest first, both kept
    assert plain(t("office.application.earlier")) in html
    assert "E1b" in html and str(form.version) in html
    await officer.get("/office/applications/999")
    assert officer.status == 404


async def test_an_event_created_closed_and_reopened_with_its_code_and_report(
    router: Router, form: Form, officer: Officer, site: URL
) -> None:
    await officer.get("/office/events")
    await officer.post(
        "/office/events", {"title": "培训", "event_date": "2024-13-45", "place": "南沙"}
    )
    assert officer.status == 400  # the chat's own rule for a date, said on the page
    await officer.post(
        "/office/events", {"title": "专利培训会", "event_date": "2024-10-08", "place": "南沙"}
    )
    assert officer.status == 200 and "专利培训会" in officer.html
    async with router.context.sessions() as session:
        event = (await session.exec(select(TrainingEvent))).one()
    assert f"{site.origin()}/s/{event.code}".replace("http://", "") in officer.html
    await officer.get(f"/office/events/{event.id}/qr.png")
    assert officer.status == 200 and officer.body.startswith(b"\x89PNG")
    assert "attachment" in officer.headers["Content-Disposition"]

    attendee = WebVisitor(site)  # scans the code
    await attendee.get(f"/s/{event.code}")
    await answer_survey_in_pages(attendee, survey_form(form), "非常满意")
    await attendee.close()
    await officer.get(f"/office/events/{event.id}")
    assert t("report.valid", count=1) in officer.html
    await officer.get(f"/office/events/{event.id}/report.xlsx")
    book = openpyxl.load_workbook(BytesIO(officer.body))
    assert len(book.worksheets) >= 1

    await officer.get(f"/office/events/{event.id}")
    await officer.post(f"/office/events/{event.id}/close", {})
    assert t("event.closed") in officer.html
    await officer.post(f"/office/events/{event.id}/open", {})
    assert t("event.open") in officer.html
    actions = [a[1] for a in await audit(router)]
    assert actions == ["signin", "event_create", "event_close", "event_open"]
    await officer.get("/office/audit")
    assert "王芳" in officer.html and t("office.action.event_close") in officer.html


async def test_the_export_is_the_spreadsheet_of_export(
    router: Router, form: Form, officer: Officer
) -> None:
    await seed(router, form, 3)
    before = await audit(router)
    await officer.get("/office/export.xlsx")  # a GET (a link from anywhere) takes nothing
    assert officer.status == 405 and await audit(router) == before
    await officer.get("/office/")
    await officer.post("/office/export.xlsx", {})  # the page's button, with its token
    assert officer.status == 200
    book = openpyxl.load_workbook(BytesIO(officer.body))
    assert book.worksheets[0].max_row == 4  # the heading and three applications
    assert [a[1] for a in await audit(router)][-1] == "export"


async def test_the_language_follows_the_browser_then_the_switch(
    router: Router, officer: Officer
) -> None:
    english = translator("en")
    await officer.get("/office/")
    assert 'lang="zh-CN"' in officer.html
    await officer.post("/office/language", {"locale": "en", "back": "/office/events"})
    assert officer.status == 200 and 'lang="en"' in officer.html
    assert english("office.events.new") in officer.html


async def test_the_tables_on_postgresql(
    postgres_url: str, form: Form, tmp_path: Path,  # noqa: F811
) -> None:  # fmt: skip
    """JSON answers compared as text, NULLs sorted last: the same on a server."""
    engine, sessions = await connect(postgres_url)
    router = Router(Context(sessions=sessions, form=form))
    try:
        await seed(router, form, 60)
        async with serving(router, per_visitor=FAST, per_address=FAST) as site:
            officer = Officer(site)
            await officer.sign_in(await add_officer("王芳", postgres_url, tmp_path))
            await officer.get("/office/")
            assert officer.status == 200 and "E1b" in officer.html
            html = await officer.get("/office/applications?flag=rd_not_leading&sort=submitted")
            assert ">20<" in html
            label = t(form.question("cluster").options[0].label)
            value = re.search(r'<option value="([^"]*)">' + re.escape(label), html)
            assert value, label
            async with officer.http.get(
                site.join(URL("/office/applications")),
                params={"cluster": html_module.unescape(value.group(1)), "sort": "verdict"},
            ) as response:
                assert ">30<" in await response.text()
            await officer.post("/office/export.xlsx", {})
            assert officer.status == 200
            await officer.close()
    finally:
        await engine.dispose()


async def test_an_admin_adds_an_officer_in_the_chat(router: Router, site: URL) -> None:
    admin, stranger = Chat(router, 999), Chat(router, 4321)  # 999: of ADMIN_IDS
    await stranger.send("/start")
    await stranger.send("/admins officer 张伟")
    assert stranger.text == plain(t("error.unknown_command"))
    await admin.send("/start")
    await admin.send("/admins officer 张伟")  # no PUBLIC_URL: no link a browser could open
    assert admin.text == plain(t("admins.officer_no_address", name="张伟"))
    router.context.public_url = str(site)
    await admin.send("/admins officer  张伟 ")
    found = re.search(r"http\S+/office/signin/\S+", admin.text)
    assert found and "张伟" in admin.text, admin.text
    browser = Officer(site)  # the link, passed on by WeChat to the office
    await browser.sign_in(found.group(0))
    assert "张伟" in browser.html
    await browser.close()
    await admin.send("/admins")
    assert "张伟" in admin.text


async def test_a_body_that_is_no_form_is_a_bad_request_not_an_error(
    officer: Officer, caplog: pytest.LogCaptureFixture
) -> None:
    form = "application/x-www-form-urlencoded"
    for path in ("/office/events", "/office/signin", "/office/signout"):
        for headers, body in (
            ({"Content-Type": form}, b"title=\xff\xfe&csrf=" + officer.csrf.encode()),
            ({"Content-Type": "multipart/form-data; boundary=b"}, b"junk"),
        ):
            url = officer.base.join(URL(path))
            async with officer.http.post(url, data=body, headers=headers) as response:
                assert response.status == 400, path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_draft_of_a_real_application_downloads_in_the_language_asked(
    router: Router, form: Form, officer: Officer, site: URL
) -> None:
    applicant = WebVisitor(site)
    await applicant.get("/")
    await applicant.press(t("button.apply"))
    await run_interview(applicant, form, ELIGIBLE_ZH)
    await applicant.close()
    await officer.get("/office/applications/1")
    assert ELIGIBLE_ZH["enterprise_name"] in officer.html
    await officer.post("/office/applications/1/draft", {"locale": "en"})
    assert officer.status == 200 and officer.body.startswith(b"PK")  # a .docx is a zip
    assert ".docx" in officer.headers["Content-Disposition"]
    await officer.get("/office/applications/1")
    assert "English" in officer.html  # the drafts made, listed
    assert [a[1] for a in await audit(router)][-1] == "draft"
