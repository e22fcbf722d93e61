"""A broadcast's Telegram HTML on the office's preview page: Telegram's tags kept, links
only to http, https and tg addresses (in any case), nothing else an officer types
becomes markup of the page."""

from __future__ import annotations

from handlers.kernel.router import Router
from testkit.office import Officer
from tests.chat import test_office
from tests.chat.test_office_broadcasts import people, tags

site, officer = test_office.site, test_office.officer  # the fixtures


async def preview(officer: Officer, text: str) -> str:
    await officer.get("/office/broadcasts/new")
    await officer.post("/office/broadcasts/preview", {"text": text, "audience": "all"})
    assert officer.status == 200, officer.html
    return officer.html


async def test_links_keep_only_telegrams_schemes(router: Router, officer: Officer) -> None:
    await people(router)
    kept = ["HTTP://example.org/A", "https://example.org/?a=1&amp;b=2", "tg://resolve?domain=x"]
    dropped = ["/office/", "//example.net/x", "mailto:a@example.org", "JavaScript:alert(1)"]
    text = "".join(f'<a href="{href}">{n}</a> ' for n, href in enumerate(kept + dropped))
    page = await preview(officer, text)
    links = [tag for tag in tags(page) if tag.name == "a" and tag.attrs.get("rel")]
    hrefs = [tag.attrs.get("href") for tag in links]
    assert hrefs == [href.replace("&amp;", "&") for href in kept] + [None] * len(dropped)
    assert all(tag.attrs["rel"] == "noopener noreferrer" for tag in links)


async def test_telegrams_tags_are_kept_and_only_the_spoilers_class(
    router: Router, officer: Officer
) -> None:
    await people(router)
    text = (
        "<b>粗</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>x</s>"
        '<strike>k</strike><del>d</del><span class="tg-spoiler">剧透</span>'
        "<tg-spoiler>t</tg-spoiler><code>c</code><pre>p</pre><blockquote>q</blockquote>"
        '<span class="covert" style="display:none" onclick="x()">露</span>'
    )
    page = await preview(officer, text)
    for kept in ("<b>粗</b>", '<span class="tg-spoiler">剧透</span>', "<tg-spoiler>t</tg-spoiler>",
                 "<blockquote>q</blockquote>", "<pre>p</pre>", "<del>d</del>"):  # fmt: skip
        assert kept in page
    assert ">露</span>" in page  # the hidden one shows, as in Telegram
    attrs = [tag.attrs for tag in tags(page)]
    assert not [a for a in attrs if "style" in a or "onclick" in a or a.get("class") == "covert"]
