"""Translators and Babel formatters for the bot's three languages.

Message ids are stable keys (``q.district``, ``result.eligible``); every catalog,
English included, carries the words. A missing key therefore shows up as the key
itself, which the catalog test refuses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"
SUPPORTED = ("zh_CN", "zh_HK", "en")
# Each language by its own name, the same in every language (the language picker).
LANGUAGE_NAMES = {"zh_CN": "简体中文", "zh_HK": "繁體中文", "en": "English"}
DEFAULT = "zh_CN"
# The programme's clock: dates and times people type, and those the bot shows, are
# Guangzhou / Hong Kong / Macao time (UTC+8, no daylight saving time).
LOCAL_TIME = timezone(timedelta(hours=8), "UTC+8")


def guess_locale(language_code: str | None, default: str = DEFAULT) -> str:
    """Map a Telegram/IETF language code (``zh-hant``, ``en-US``) to a supported locale."""
    if not language_code:
        return default
    code = language_code.replace("_", "-").lower()
    if code.startswith("zh"):
        traditional = ("hant", "hk", "tw", "mo")
        return "zh_HK" if any(part in traditional for part in code.split("-")) else "zh_CN"
    if code.startswith("en"):
        return "en"
    return default


@dataclass(frozen=True)
class Translator:
    """Everything a handler needs to speak one locale."""

    locale: str
    translations: NullTranslations
    # Parsed once: Babel re-parses a locale given by name on every call (~100 µs each).
    babel: Locale

    def __call__(self, key: str, **values: object) -> str:
        text = self.translations.gettext(key)
        return text.format(**values) if values else text

    def plural(self, key: str, key_plural: str, count: int, **values: object) -> str:
        text = self.translations.ngettext(key, key_plural, count)
        return text.format(count=self.number(count), **values)

    def list(self, items: list[str]) -> str:
        """Items joined as the language joins them: 甲、乙和丙; a, b, and c."""
        return format_list(items, locale=self.babel)

    def number(self, value: Decimal | int | float, digits: int | None = None) -> str:
        if digits is None:
            return format_decimal(value, locale=self.babel)
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        return format_decimal(value, format=pattern, locale=self.babel)

    def percent(self, value: Decimal, digits: int = 2) -> str:
        """Truncated, never rounded up: 2.996% shows as 2.99%, not as a 3.00% that passes."""
        shown = value.quantize(Decimal(1).scaleb(-(digits + 2)), rounding=ROUND_DOWN)
        pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
        return format_percent(shown, format=pattern, locale=self.babel)

    def money(self, value: Decimal | int, currency: str = "CNY") -> str:
        return format_currency(value, currency, locale=self.babel)

    def month(self, value: date) -> str:
        """A month as the locale writes it: 2024年6月, Jun 2024."""
        return format_skeleton("yMMM", value, locale=self.babel)

    def date(self, value: date) -> str:
        return format_date(value, format="long", locale=self.babel)

    def datetime(self, value: datetime) -> str:
        """To the minute, in the value's own time zone: 2024年10月8日 17:00, Oct 8, 2024, 5:00 PM.
        (Babel's medium datetime shows seconds, which no deadline is set to.)"""
        pattern = self.babel.datetime_formats["medium"]
        day = format_date(value, format="medium", locale=self.babel)
        return str(pattern).format(format_time(value, format="short", locale=self.babel), day)


@functools.cache
def translator(locale: str) -> Translator:
    if locale not in SUPPORTED:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {', '.join(SUPPORTED)}")
    translations = Translations.load(str(LOCALES_DIR), [locale], domain=DOMAIN)
    return Translator(locale, translations, Locale.parse(locale))


def N_(key: str) -> str:
    """Marks a catalog key for extraction where it is looked up later (``t(key)``)."""
    return key
