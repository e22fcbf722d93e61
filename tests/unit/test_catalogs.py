"""Every user-visible string is in every catalog, translated, with the same placeholders."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from locales import LOCALES_DIR, SUPPORTED, translator

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"t": None, "N_": None, "InvalidAnswer": None, "plural": (1, 2), "_": None}


def catalog(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def template_ids() -> set[str | tuple[str, ...]]:
    """Keys; a plural message's is its (singular, plural) pair."""
    with (LOCALES_DIR / "messages.pot").open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


def forms_of(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def _key(message_id: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    # read_mo gives a plural key as a list, read_po as a tuple.
    return tuple(message_id) if isinstance(message_id, list) else message_id


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_template_holds_every_key_the_code_and_forms_use() -> None:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    used = {
        message
        for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, KEYWORDS)
    }
    missing = used - template_ids()
    assert not missing, f"run the extract/update workflow in the README; missing: {sorted(missing)}"


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_key_is_translated(locale: str) -> None:
    messages = {m.id: m for m in catalog(locale) if m.id}
    missing = sorted(template_ids() - set(messages))
    empty = sorted(str(k) for k, m in messages.items() if not all(forms_of(m.string)))
    fuzzy = sorted(str(k) for k, m in messages.items() if m.fuzzy)
    assert not (missing or empty or fuzzy), (
        f"{locale}: missing {missing}, empty {empty}, fuzzy {fuzzy}"
    )


@pytest.mark.parametrize("locale", SUPPORTED)
def test_compiled_catalog_matches_its_source(locale: str) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = {_key(m.id): forms_of(m.string) for m in read_mo(f) if m.id}
    source = {_key(m.id): forms_of(m.string) for m in catalog(locale) if m.id}
    assert compiled == source, f"run: pybabel compile -d locales -l {locale}"
    t = translator(locale)
    for key in template_ids():
        if isinstance(key, tuple):
            assert t.translations.ngettext(key[0], key[1], 1) != key[0], key
            assert t.translations.ngettext(key[0], key[1], 2) != key[1], key
        else:
            assert t.translations.gettext(key) != key, key


def test_placeholders_agree_across_languages() -> None:
    by_locale = {loc: {m.id: m.string for m in catalog(loc) if m.id} for loc in SUPPORTED}
    for key in template_ids():
        # Every plural form of every language names the same placeholders.
        seen = {
            (loc, i): frozenset(placeholders(text))
            for loc in SUPPORTED
            for i, text in enumerate(forms_of(by_locale[loc].get(key, "")))
        }
        assert len(set(seen.values())) == 1, f"{key}: {seen}"
