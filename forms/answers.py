"""Reading what a person typed or pressed into a typed answer, or saying why not.

Every refusal is an ``InvalidAnswer`` carrying a catalog key and its values, so the
handler can explain it in the user's language and ask the same question again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from forms.codes import uscc_valid, uscc_well_formed
from forms.definition import Form, Question
from locales import LOCAL_TIME, N_, SUPPORTED, translator

Value = bool | str | int | Decimal | date | datetime | None  # None: an optional one skipped

_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"  # 2024-10-08, 2024年10月8日
    r"|(\d{4})(\d{2})(\d{2})",  # 20241008
    re.ASCII,
)
_TIME = re.compile(r"(\d{1,2})\s*[:：点時时]\s*(\d{2})?\s*分?", re.ASCII)

YES_WORDS = frozenset(
    {"是", "是的", "对", "對", "有", "确认", "確認", "y", "yes", "true", "1", "✓"}
)
NO_WORDS = frozenset({"否", "不是", "不", "无", "没有", "沒有", "n", "no", "false", "0", "✗"})
# Numbers as people type them (after NFKC: full-width digits, commas and spaces are ASCII).
# ASCII digits only: \d would take Arabic-Indic or Devanagari digits for ours, and "1_000"
# is a programmer's figure, not a form's.
_PLAIN = re.compile(r"\d+(\.\d*)?|\.\d+", re.ASCII)
# Thousands grouped the usual way, one separator throughout: 1,234.5  1 234  1'234
_GROUPED = re.compile(r"(\d{1,3}(?P<sep>[,\s'’])\d{3}(?:(?P=sep)\d{3})*)(\.\d+)?", re.ASCII)
# Digits with separators in any other arrangement: 1,23  1.234,5  1 8 2 0 0
_LOOSE = re.compile(r"[\d.,\s'’]*\d[\d.,\s'’]*", re.ASCII)
_NOT_DIGIT = re.compile(r"\D", re.ASCII)
_WAN_SUFFIX = re.compile(r"\s*(万元|萬元|万|萬)$")
_YUAN_SUFFIX = re.compile(r"\s*(元|圆|圓)$")
WAN = Decimal(10000)
_PHONE_CHARS = re.compile(r"[\s\-()（）]")


class InvalidAnswer(ValueError):
    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Parsed:
    value: Value
    # A catalog key when the answer is plausible but must be confirmed (a USCC whose
    # check character does not verify: real codes like that exist).
    confirm: str | None = None
    confirm_values: dict[str, object] = field(default_factory=dict)
    # When the answer may mean several values (1,23: 1.23 or 123?): the user picks one.
    choices: tuple[Value, ...] = ()


def normalize(text: str) -> str:
    """Full-width digits and letters to ASCII, surrounding blanks dropped."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_yes_no(text: str) -> bool:
    word = normalize(text).lower().rstrip("。.!！")
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise InvalidAnswer("error.yes_no")


def _readings(body: str) -> tuple[list[str], bool]:
    """The numbers a typed figure may mean, and whether there is no doubt. One when its
    separators are the usual ones (1234.5, 1,234.5, 1 234); else what its last comma or
    point may be (1,23: 1.23; 1.234,5: 1234.5) and, with no point in it, its digits run
    together (1,23: 123; 1 8 2 0 0: 18200). None when it is not a number at all."""
    if _PLAIN.fullmatch(body):
        return [body], True
    grouped = _GROUPED.fullmatch(body)
    if grouped:
        return [_NOT_DIGIT.sub("", grouped.group(1)) + (grouped.group(3) or "")], True
    if not _LOOSE.fullmatch(body):
        return [], False
    last = next(c for c in reversed(body) if not c.isdigit())
    readings = []
    if last in ".," and body.count(last) == 1:
        head, _, tail = body.rpartition(last)
        readings.append(_NOT_DIGIT.sub("", head) + "." + tail)
    if "." not in body:
        readings.append(_NOT_DIGIT.sub("", body))
    return readings, False


def _checked(question: Question, number: Decimal) -> Decimal | int:
    """The number as stored, or why it cannot be an answer to ``question``."""
    if question.min is not None and number < question.min:
        key = N_("error.negative") if question.min == 0 else N_("error.too_small")
        raise InvalidAnswer(key, min=question.min)
    if question.max is not None and number > question.max:
        raise InvalidAnswer("error.too_large", max=question.max)
    if question.type == "integer":
        if number != number.to_integral_value():
            raise InvalidAnswer("error.not_whole")
        return int(number)
    if -number.as_tuple().exponent > 4:  # type: ignore[operator]
        raise InvalidAnswer("error.too_many_decimals", digits=4)
    return number.normalize() if number != 0 else Decimal(0)


def _valid(question: Question, numbers: list[Decimal]) -> list[Decimal | int]:
    """The numbers that can answer ``question``, once each; the first one's reason for
    being refused when none can."""
    values: list[Decimal | int] = []
    refusal: InvalidAnswer | None = None
    for number in numbers:
        try:
            value = _checked(question, number)
        except InvalidAnswer as e:
            refusal = refusal or e
            continue
        if value not in values:
            values.append(value)
    if not values:
        assert refusal is not None
        raise refusal
    return values


def _in_wan(yuan: Decimal) -> Decimal:
    # Precision for every digit typed: a 40-digit figure is refused by the limits, not by
    # quantize overflowing the default 28 digits (found by tests/chat/test_fuzz.py).
    with localcontext() as context:
        context.prec = max(context.prec, len(yuan.as_tuple().digits) + 8)
        return (yuan / WAN).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _asked_back(keys: tuple[str, str], values: list[Decimal | int], typed: str) -> Parsed:
    """One reading to confirm (the first key), or several to choose from (the second)."""
    one, several = keys
    if len(values) == 1:
        return Parsed(values[0], confirm=one, confirm_values={"typed": typed, "value": values[0]})
    return Parsed(values[0], confirm=several, confirm_values={"typed": typed}, choices=(*values,))


IN_YUAN = (N_("confirm.amount_yuan"), N_("confirm.amount_yuan_choose"))
ODD_SEPARATORS = (N_("confirm.amount_reading"), N_("confirm.amount_reading_choose"))


def parse_amount(question: Question, text: str) -> Parsed:
    """A number or count. What could be misread is asked back, never guessed: separators
    that leave a doubt, and in a 万元 field a figure typed in yuan (a trailing 元, or one
    too large to be 万元)."""
    typed, in_yuan = normalize(text), False
    if question.unit == "unit.wan_yuan":
        typed = _WAN_SUFFIX.sub("", typed)
        in_yuan = bool(_YUAN_SUFFIX.search(typed))
        typed = _YUAN_SUFFIX.sub("", typed)
    if not typed:
        raise InvalidAnswer("error.empty")
    sign, body = (typed[0], typed[1:]) if typed[0] in "+-" else ("", typed)
    readings, certain = _readings(body)
    if not readings:
        raise InvalidAnswer("error.not_a_number", text=text.strip())
    numbers = [Decimal(sign + r) for r in readings]
    if in_yuan:
        return _asked_back(IN_YUAN, _valid(question, [_in_wan(n) for n in numbers]), text.strip())
    if not certain:
        return _asked_back(ODD_SEPARATORS, _valid(question, numbers), text.strip())
    return _plausible(question, numbers[0], text.strip())


def _plausible(question: Question, number: Decimal, typed: str) -> Parsed:
    """A certain number; one too large for 万元 but plausible in yuan is offered converted."""
    limit = question.plausible_max
    if limit is None or number <= limit or _in_wan(number) > limit:
        return Parsed(_checked(question, number))
    converted = _checked(question, _in_wan(number))
    if question.max is not None and number > question.max:
        return _asked_back(IN_YUAN, [converted], typed)
    as_typed = _checked(question, number)
    return Parsed(
        converted,
        confirm=N_("confirm.amount_large"),
        confirm_values={"value": as_typed, "converted": converted},
        choices=(converted, as_typed),
    )


def parse_text(question: Question, text: str) -> str:
    # Control characters would corrupt documents and exports; keep line breaks.
    cleaned = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C").strip()
    if not cleaned:
        raise InvalidAnswer("error.empty")
    if len(cleaned) > question.max_length:
        raise InvalidAnswer("error.too_long", max=question.max_length, length=len(cleaned))
    return cleaned


def parse_choice(question: Question, text: str) -> str:
    """A button's option id, or the typed label of an option (any language)."""
    typed = normalize(text).casefold()
    for option in question.options:
        if typed == option.id.casefold():
            return option.id
        if any(typed == normalize(translator(loc)(option.label)).casefold() for loc in SUPPORTED):
            return option.id
    raise InvalidAnswer("error.choice")


def parse_uscc(text: str) -> Parsed:
    code = re.sub(r"[\s\-]", "", normalize(text)).upper()
    if len(code) != 18:
        raise InvalidAnswer("error.uscc_length", length=len(code))
    if not uscc_well_formed(code):
        raise InvalidAnswer("error.uscc_chars")
    if not uscc_valid(code):
        return Parsed(code, confirm=N_("confirm.uscc_check"), confirm_values={"code": code})
    return Parsed(code)


def parse_phone(text: str) -> str:
    phone = _PHONE_CHARS.sub("", normalize(text))
    digits = phone.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or not 7 <= len(digits) <= 15:
        raise InvalidAnswer("error.phone")
    if len(digits) == 11 and digits.startswith("1") and digits[1] not in "3456789":
        raise InvalidAnswer("error.phone")
    return phone


def _date(text: str) -> tuple[date, str]:
    """A date written the usual ways (2024-10-08, 2024/10/8, 2024年10月8日, 20241008),
    and what follows it."""
    found = _DATE.match(text)
    if found is None:
        raise InvalidAnswer("error.date")
    parts = [int(g) for g in found.groups() if g is not None]
    try:
        return date(*parts), text[found.end() :]
    except ValueError as e:
        raise InvalidAnswer("error.date") from e


def parse_date(text: str) -> date:
    day, rest = _date(normalize(text))
    if rest.strip():
        raise InvalidAnswer("error.date")
    return day


def parse_datetime(text: str) -> datetime:
    """A date and a time of day (24-hour), local time, returned as an aware datetime."""
    day, rest = _date(normalize(text))
    found = _TIME.fullmatch(rest.strip())
    if found is None:
        raise InvalidAnswer("error.datetime")
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if hour > 23 or minute > 59:
        raise InvalidAnswer("error.datetime")
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TIME)


def parse(question: Question, text: str) -> Parsed:
    match question.type:
        case "yes_no":
            return Parsed(parse_yes_no(text))
        case "choice":
            return Parsed(parse_choice(question, text))
        case "number" | "integer":
            return parse_amount(question, text)
        case "text":
            return Parsed(parse_text(question, text))
        case "uscc":
            return parse_uscc(text)
        case "phone":
            return Parsed(parse_phone(text))
        case "date":
            return Parsed(parse_date(text))
        case "datetime":
            moment = parse_datetime(text)
            if question.future and moment <= datetime.now(LOCAL_TIME):
                raise InvalidAnswer("error.datetime_past")
            return Parsed(moment)
    raise AssertionError(f"unhandled question type {question.type}")  # pragma: no cover


def encode(value: Value) -> object:
    """JSON-safe form of an answer: decimals as strings to stay exact, written out as people
    write them ("2570", never the "2.57E+3" of a normalized Decimal), dates as ISO."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value


def decode_all(form: Form, stored: Mapping[str, object]) -> dict[str, Value]:
    """The stored answers (question id → JSON value) that belong to ``form``, decoded."""
    return {
        qid: decode(form.question(qid), raw)
        for qid, raw in stored.items()
        if form.has_question(qid)
    }


def decode(question: Question, stored: object) -> Value:
    if stored is None:
        return None
    if question.type == "number":
        return Decimal(str(stored))
    if question.type == "integer":
        return int(str(stored))
    if question.type == "yes_no":
        return bool(stored)
    if question.type == "date":
        return date.fromisoformat(str(stored))
    if question.type == "datetime":
        return datetime.fromisoformat(str(stored))
    return str(stored)
