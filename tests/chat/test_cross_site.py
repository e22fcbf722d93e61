"""What another site cannot do with a visitor's or an officer's browser: post from its own
page (the Origin is not ours), sign an officer in with a sign-in page's token copied into
another browser, or use a sign-in link that a newer one replaced."""

from __future__ import annotations

import re
from pathlib import Path

from yarl import URL

from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from testkit.office import Officer
from testkit.web import WebVisitor
from tests.chat import test_office
from tests.chat.test_office import add_officer

site = test_office.site  # the fixture
t = translator("zh_CN")


async def test_a_post_from_another_site_is_refused_even_with_tokens(site: URL) -> None:
    visitor = WebVisitor(site)
    await visitor.get("/")
    forged = {**visitor.page.hidden, "text": "/apply"}
    async with visitor.http.post(
        site.join(URL("/say")), data=forged, headers={"Origin": "https://evil.example"}
    ) as response:
        assert response.status == 403 and plain(t("web.forged")) in await response.text()
    said = await visitor.post("/say", forged)  # the same post from our own page
    assert said.status == 200 and plain(t("interview.intro", programme=t(
        "programme.nansha-2024.title"))) in visitor.text  # fmt: skip
    await visitor.close()


async def test_a_sign_in_page_s_token_works_only_in_its_browser(
    router: Router,
    site: URL,
    database_url: str,
    tmp_path: Path,
) -> None:
    link = URL(await add_officer("王芳", database_url, tmp_path)).path
    mine, theirs = Officer(site), Officer(site)
    await mine.get(link)
    fields = {"link": link.rsplit("/", 1)[1], "csrf": mine.csrf}
    await theirs.post("/office/signin", fields, csrf=False)  # copied to another browser
    assert theirs.status == 403
    await mine.post("/office/signin", fields, csrf=False)  # still good where it was opened
    assert mine.status == 200 and t("office.nav.applications") in mine.html
    await mine.close()
    await theirs.close()


async def test_a_new_link_for_an_officer_ends_the_earlier_one(
    site: URL,
    database_url: str,
    tmp_path: Path,
) -> None:
    first = URL(await add_officer("王芳", database_url, tmp_path)).path
    second = URL(await add_officer("王芳", database_url, tmp_path)).path
    browser = Officer(site)
    await browser.get(first)
    assert browser.status == 410
    assert re.search(re.escape(plain(t("office.signin.expired", hours=24))[:6]), browser.html)
    await browser.sign_in(str(site.join(URL(second))))
    await browser.close()
