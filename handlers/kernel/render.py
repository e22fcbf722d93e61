"""How questions, answers, the review and the result look in a chat.

Text is Telegram-HTML; every value a user typed passes through ``escape``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from html import escape, unescape

from forms.answers import InvalidAnswer, Value
from forms.definition import Form, Question
from forms.engine import Flag, progress
from handlers.kernel.commands import MENU, Buttons
from handlers.kernel.types import Button, Keyboard, Reply
from handlers.questionnaire.buttons import Act
from locales import LOCAL_TIME, N_, Translator
from models.tables import Application, Verdict
from models.tables import Flag as StoredFlag

_TAG = re.compile(r"</?(b|i|u|s|code|pre|a)(\s[^>]*)?>")

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data
VERDICTS = {
    Verdict.ELIGIBLE: ("✅", N_("result.eligible")),
    Verdict.ELIGIBLE_WITH_POINTS: ("⚠️", N_("result.eligible_with_points")),
    Verdict.NOT_ELIGIBLE: ("❌", N_("result.not_eligible")),
}
SEVERITIES = {
    "disqualify": ("❌", N_("result.heading.disqualify")),
    "warning": ("⚠️", N_("result.heading.warning")),
    "review": ("🔎", N_("result.heading.review")),
}


SEVERITY_ICONS = {severity: icon for severity, (icon, _) in SEVERITIES.items()}


def verdict_text(t: Translator, verdict: str) -> str:
    icon, key = VERDICTS[Verdict(verdict)]
    return f"{icon} {t(key)}"


def button(text: str, data: str) -> Button:
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data longer than {CALLBACK_LIMIT} bytes: {data!r}")
    return Button(text, data)


def plain(text: str) -> str:
    """Chat HTML to plain text (for the terminal and for documents)."""
    return unescape(_TAG.sub("", text))


def bold(text: str) -> str:
    return f"<b>{text}</b>"


def rows(buttons: Iterable[Button], width: int) -> Keyboard:
    items = list(buttons)
    return tuple(tuple(items[i : i + width]) for i in range(0, len(items), width))


def question_vars(t: Translator, form: Form, question: Question) -> dict[str, object]:
    """The placeholders a question's text and label may use: the call's figures by name
    ("不少于{min_invention_patents}件"), the years of the figures, the start of the record
    window (a date the locale writes), the question's own vars."""
    shown: dict[str, object] = dict(form.params)
    if form.years:
        shown |= {"last_year": form.years[-1], "first_year": form.years[0]}
    if form.record_since is not None:
        shown["since"] = t.date(form.record_since)
    return {**shown, **question.vars}


def question_text(t: Translator, form: Form, question: Question) -> str:
    return t(question.text, **question_vars(t, form, question))


def label(t: Translator, form: Form, question: Question) -> str:
    return t(question.label, **question_vars(t, form, question))


def local_date(t: Translator, moment: datetime) -> str:
    """The day of a stored (UTC) moment as Guangzhou, Hong Kong and Macao live it (UTC+8):
    a submission at 06:18 on 2 December Beijing time is on 2 December, not on UTC's 1st."""
    return t.date(moment.astimezone(LOCAL_TIME).date())


def show_value(t: Translator, question: Question, value: Value) -> str:
    """An answer as the user should read it back (escaped)."""
    if value is None:
        return t("answer.skipped")
    match question.type:
        case "yes_no":
            return t("button.yes") if value else t("button.no")
        case "choice":
            option = question.option(str(value))
            return t(option.label) if option else escape(str(value))
        case "date":
            assert isinstance(value, date)
            return t.date(value)
        case "datetime":
            assert isinstance(value, datetime)
            return t.datetime(value.astimezone(LOCAL_TIME))
        case "number" | "integer":
            if question.type == "integer" and question.unit:
                # A count unit is a plural message: "1 organisation", "2 organisations".
                assert isinstance(value, int | Decimal)
                return t.plural(question.unit, f"{question.unit}.plural", int(value))
            shown = t.number(value if isinstance(value, Decimal | int) else Decimal(str(value)))
            return f"{shown} {t(question.unit)}" if question.unit else shown
    return escape(str(value))


def format_hint(t: Translator, question: Question) -> str:
    match question.type:
        case "number":
            return t("hint.number", unit=t(question.unit or "unit.none"))
        case "integer":
            return t("hint.integer")
        case "text":
            return t("hint.text", max=question.max_length)
        case "uscc":
            return t("hint.uscc")
        case "phone":
            return t("hint.phone")
        case "date":
            return t("hint.date")
        case "datetime":
            return t("hint.datetime")
        case "yes_no":
            return t("hint.yes_no")
    return t("hint.choice")


def answer_buttons(
    t: Translator, family: Buttons, question: Question, group: str | None
) -> list[Button]:
    qid = question.id
    if question.type == "yes_no":
        return [
            button(t("button.yes"), family.data(Act.ANSWER, qid, "1")),
            button(t("button.no"), family.data(Act.ANSWER, qid, "0")),
        ]
    if question.type != "choice":
        return []
    if question.groups and group is None:
        return [button(t(g.label), family.data(Act.GROUP, qid, g.id)) for g in question.groups]
    options = [o for o in question.options if group is None or o.group == group]
    return [button(t(o.label), family.data(Act.ANSWER, qid, o.id)) for o in options]


def question_reply(
    t: Translator,
    form: Form,
    question: Question,
    answers: Mapping[str, Value],
    family: Buttons,
    *,
    group: str | None = None,
    error: str | None = None,
    edit: bool = False,
) -> Reply:
    """The question, with the buttons of its form's ``family``."""
    number, total = progress(form, answers, question.id)
    lines = []
    if error:
        lines += [f"⚠️ {error}", ""]
    lines += [
        t("question.header", number=number, total=total, section=t(question.section)),
        f"<b>{question_text(t, form, question)}</b>",
        f"<i>{format_hint(t, question)}</i>",
    ]
    if question.id in answers:
        lines.append(t("question.current", answer=show_value(t, question, answers[question.id])))
    keyboard: list[tuple[Button, ...]] = []
    choices = answer_buttons(t, family, question, group)
    if choices:
        width = 2 if question.type != "choice" or len(choices) > 4 else 1
        keyboard += rows(choices, width)
    nav = []
    qid = question.id
    if group is not None and question.groups:
        nav.append(button(t("button.back_to_groups"), family.data(Act.GROUP, qid, "")))
    elif number > 1:
        nav.append(button(t("button.back"), family.data(Act.BACK, qid)))
    if qid in answers:
        nav.append(button(t("button.keep"), family.data(Act.KEEP, qid)))
    elif question.optional:
        nav.append(button(t("button.skip"), family.data(Act.SKIP, qid)))
    if nav:
        keyboard.append(tuple(nav))
    typed = question.type not in ("yes_no", "choice")
    return Reply("\n".join(lines), tuple(keyboard), edit=edit, accepts_text=typed)


def answered_reply(t: Translator, form: Form, question: Question, value: Value) -> Reply:
    """The pressed question message, rewritten to show the choice (its buttons go)."""
    text = question_text(t, form, question)
    return Reply(f"{text}\n→ <b>{show_value(t, question, value)}</b>", edit=True)


def flag_values(flag: Flag) -> dict[str, list[str]]:
    """The figures a rule saw, as ``{name: [display, value]}`` (JSON-safe, stored as is)."""
    return {
        name: [flag.rule.show.get(name, "text"), str(value)] for name, value in flag.values.items()
    }


def shown_values(t: Translator, values: Mapping[str, list[str]]) -> dict[str, str]:
    shown = {}
    for name, (display, raw) in values.items():
        if display == "percent":
            shown[name] = t.percent(Decimal(raw))
        elif display == "number":
            shown[name] = t.number(Decimal(raw))
        else:
            shown[name] = escape(raw)
    return shown


def flag_line(t: Translator, record: StoredFlag) -> str:
    message = t(record.message_key, **shown_values(t, record.values or {}))
    return "• " + t("flag.line", message=message, clause=record.clause)


def disqualified_notice(t: Translator, flags: list[StoredFlag]) -> Reply:
    # No button of its own: "← 上一题" on the next question goes straight back to this one.
    return Reply(t("notice.disqualified", reasons="\n".join(flag_line(t, f) for f in flags)))


def review_reply(
    t: Translator,
    form: Form,
    questions: list[Question],
    answers: Mapping[str, Value],
    title: str,
    submit_label: str,
    family: Buttons,
) -> Reply:
    lines = [bold(t(title)), t("review.instructions", submit=t(submit_label)), ""]
    section = None
    for n, q in enumerate(questions, start=1):
        if q.section != section:
            section = q.section
            lines.append(f"<b>{t(section)}</b>")
        lines.append(
            t("review.item", n=n, label=label(t, form, q), answer=show_value(t, q, answers[q.id]))
        )
    numbered = [
        button(str(n), family.data(Act.EDIT, q.id)) for n, q in enumerate(questions, start=1)
    ]
    keyboard = (*rows(numbered, 6), (button(t(submit_label), family.data(Act.SUBMIT)),))
    return Reply("\n".join(lines), keyboard)


def figure(figures: Mapping[str, str | None], name: str) -> Decimal | None:
    """A derived value as the application stored it (exact, as text)."""
    raw = figures.get(name)
    return None if raw is None else Decimal(raw)


def figure_percent(t: Translator, figures: Mapping[str, str | None], name: str) -> str:
    value = figure(figures, name)
    return t.percent(value) if value is not None else t("result.not_computable")


def ratio_lines(t: Translator, form: Form, figures: Mapping[str, str | None]) -> list[str]:
    def ratio(name: str) -> str:
        return figure_percent(t, figures, name)

    lines = []
    rd_total, revenue_total = figure(figures, "rd_total"), figure(figures, "revenue_total")
    if rd_total is not None and revenue_total is not None:
        lines.append(
            t(
                "result.rd_ratio",
                rd_total=t.number(rd_total),
                revenue_total=t.number(revenue_total),
                ratio=ratio("rd_ratio_3y"),
                minimum=t.percent(Decimal(str(form.params["rd_ratio_min"]))),
                first_year=form.years[0],
                last_year=form.years[-1],
            )
        )
    if "ip_ratio" in figures:
        lines.append(
            t(
                "result.ip_ratio",
                ratio=ratio("ip_ratio"),
                minimum=t.percent(Decimal(str(form.params["ip_ratio_min"]))),
                last_year=form.years[-1],
            )
        )
    return lines


def result_reply(
    t: Translator,
    form: Form,
    application: Application,
    flags: list[StoredFlag],
    restart: Buttons,
) -> Reply:
    verdict = application.verdict or Verdict.NOT_ELIGIBLE
    lines = [
        f"<b>{verdict_text(t, verdict)}</b>",
        t("result.programme", programme=t(form.title), version=application.version),
    ]
    for severity, (icon, heading) in SEVERITIES.items():
        matching = [f for f in flags if f.severity == severity]
        if matching:
            lines += ["", f"<b>{icon} {t(heading)}</b>"]
            lines += [flag_line(t, f) for f in matching]
    if not flags:
        lines += ["", t("result.no_flags")]
    figures = ratio_lines(t, form, application.figures or {})
    if figures:
        lines += ["", bold("📊 " + t("result.heading.figures")), *("• " + f for f in figures)]
    lines += ["", t("result.next_steps")]
    keyboard = (
        (button(t("button.draft"), MENU.data("draft")),),
        (button(t("button.restart"), restart.data()),),
    )
    return Reply("\n".join(lines), keyboard)


def flag_title(t: Translator, form: Form, flag: StoredFlag, length: int) -> str:
    """A flag's short name: its rule's title. A rule the programme no longer has: what it
    said, without one applicant's figures (a placeholder reads "…"), cut short."""
    rule = form.rule(flag.rule_id)
    if rule is not None:
        return t(rule.title)
    template = t(flag.message_key)
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    text = plain(template.format(**dict.fromkeys(names, "…")))
    return text if len(text) <= length else text[: length - 1] + "…"


def invalid(t: Translator, error: InvalidAnswer) -> str:
    """Why an answer was refused: limits as the language writes numbers (100,000,000),
    anything else — it may echo what was typed — as text."""
    values = {
        k: t.number(v) if isinstance(v, int | Decimal) and not isinstance(v, bool)
        else escape(str(v))
        for k, v in error.values.items()
    }  # fmt: skip
    return t(error.key, **values)
