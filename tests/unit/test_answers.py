"""Reading typed answers: what is accepted, and the reason given for what is not."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from forms.answers import InvalidAnswer, parse
from forms.codes import uscc_valid
from forms.definition import Form


def reason(form: Form, qid: str, text: str) -> str:
    with pytest.raises(InvalidAnswer) as caught:
        parse(form.question(qid), text)
    return caught.value.key


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1234.5", D("1234.5")),
        ("1,234.5", D("1234.5")),
        ("1 234", D(1234)),
        ("１２３４", D(1234)),
        ("１，２３４．５", D("1234.5")),
        ("0", D(0)),
        ("800万元", D(800)),
        ("800 万", D(800)),
        ("  42  ", D(42)),
    ],
)
def test_amounts_people_type(form: Form, typed: str, value: D) -> None:
    assert parse(form.question("revenue_y1"), typed).value == value


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("-5", "error.negative"),
        ("abc", "error.not_a_number"),
        ("一千万", "error.not_a_number"),
        ("12.3.4", "error.not_a_number"),
        ("", "error.empty"),
        ("1e9", "error.not_a_number"),
        ("999999999999", "error.too_large"),
        ("1.123456", "error.too_many_decimals"),
    ],
)
def test_amounts_refused_with_a_reason(form: Form, typed: str, key: str) -> None:
    assert reason(form, "revenue_y1", typed) == key


def test_counts_must_be_whole(form: Form) -> None:
    assert parse(form.question("joint_count"), "２").value == 2
    assert reason(form, "joint_count", "1.5") == "error.not_whole"
    assert reason(form, "joint_count", "-1") == "error.negative"


@pytest.mark.parametrize(
    ("typed", "value"),
    [("是", True), ("否", False), ("Yes", True), ("no", False), ("有", True), ("没有", False)],
)
def test_yes_no_typed(form: Form, typed: str, value: bool) -> None:
    assert parse(form.question("in_nansha"), typed).value is value


def test_yes_no_refuses_anything_else(form: Form) -> None:
    assert reason(form, "in_nansha", "maybe") == "error.yes_no"


def test_choices_by_label_in_any_language_or_refused(form: Form) -> None:
    from locales import translator

    question = form.question("legal_person")
    option = question.options[1]
    for locale in ("zh_CN", "zh_HK", "en"):
        assert parse(question, translator(locale)(option.label)).value == option.id
    assert reason(form, "legal_person", "个体户") == "error.choice"


def test_text_is_kept_as_typed_but_bounded(form: Form) -> None:
    assert (
        parse(form.question("enterprise_name"), "  <b>{{ 7*7 }}</b> 公司 ").value
        == "<b>{{ 7*7 }}</b> 公司"
    )
    assert reason(form, "enterprise_name", "   ") == "error.empty"
    assert reason(form, "enterprise_name", "字" * 101) == "error.too_long"


def test_uscc_checksum() -> None:
    for code in ("914403001922038216", "91110108551385082Q", "91440101MA5CJQ4N59"):
        assert uscc_valid(code)
    assert not uscc_valid("91440101MA5CJQ4N58")


def test_uscc_failed_check_asks_to_confirm_instead_of_refusing(form: Form) -> None:
    question = form.question("uscc")
    ok = parse(question, "9144 0101 MA5C JQ4N 59")
    assert ok.value == "91440101MA5CJQ4N59" and ok.confirm is None
    doubtful = parse(question, "91440101ma5cjq4n58")
    assert doubtful.value == "91440101MA5CJQ4N58" and doubtful.confirm == "confirm.uscc_check"
    assert reason(form, "uscc", "9144010") == "error.uscc_length"
    assert reason(form, "uscc", "91440101MA5CJQ4NIO") == "error.uscc_chars"


@pytest.mark.parametrize(
    "typed", ["13800138000", "020-3468 1234", "+852 9123 4567", "(020)84981234"]
)
def test_phones(form: Form, typed: str) -> None:
    assert parse(form.question("contact_phone"), typed).value


@pytest.mark.parametrize("typed", ["12345", "12800138000", "call me", "+86 138 0013 8000 1234 5"])
def test_bad_phones(form: Form, typed: str) -> None:
    assert reason(form, "contact_phone", typed) == "error.phone"
