"""The office pages say their words by catalog key in the templates (``_("office.…")``,
jinja2.ext.i18n): ``pybabel extract`` finds them through babel.cfg, and every page reads
in the officer's language with no key left showing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from yarl import URL

from handlers.kernel.router import Router
from locales import LOCALES_DIR, SUPPORTED, translator
from testkit.office import Officer, add_officer_link
from tests.chat import test_office

site = test_office.site  # the fixture
ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"t": None, "N_": None, "InvalidAnswer": None, "plural": (1, 2), "_": None}
PAGES = ["/office/", "/office/applications", "/office/events", "/office/audit"]
PAGES += ["/office/broadcasts", "/office/broadcasts/new"]
KEY = re.compile(r"\b(?:office|export|stats|result|broadcast|button)\.[a-z_]+\.?[a-z_]*\b")


def template_keys() -> set[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = extract_from_dir(str(ROOT), method_map, options_map, KEYWORDS)
    return {m for path, _, m, _, _ in found if path.startswith("templates") and isinstance(m, str)}


def test_pybabel_extract_finds_the_templates_words() -> None:
    keys = template_keys()
    assert {"office.nav.events", "office.signin.button", "office.broadcasts.jobs"} <= keys
    with (LOCALES_DIR / "messages.pot").open("rb") as f:
        pot = {m.id: m.locations for m in read_po(f) if m.id}
    assert keys <= pot.keys()
    assert ("templates/office/base.html", 19) in pot["office.nav.events"]


@pytest.mark.parametrize("locale", SUPPORTED)
async def test_every_page_reads_in_the_officers_language(
    router: Router, site: URL, locale: str
) -> None:
    t = translator(locale)
    officer = Officer(site)
    await officer.sign_in(await add_officer_link(router, "王芳"))
    await officer.post("/office/language", {"locale": locale, "back": "/office/"})
    for path in PAGES:
        await officer.get(path)
        assert officer.status == 200, path
        assert t("office.nav.events") in officer.html and t("office.signout") in officer.html
        text = re.sub(r"<[^>]*>", " ", officer.html)  # the words, not addresses or names
        assert not KEY.findall(text), (path, KEY.findall(text))
    await officer.close()
