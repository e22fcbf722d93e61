"""An event's satisfaction figures, for acceptance (clause K4: the call's min_satisfaction).

Satisfaction rate = (非常满意 + 满意) / valid questionnaires, per item; the target is
judged on the survey's overall item. A valid questionnaire is a submitted response.
The report is text for the chat, a bar chart (PNG) whose Chinese labels render with a
bundled Noto Sans CJK font, and a spreadsheet (summary + raw responses, anonymous
unless asked otherwise).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from forms.answers import LOCAL_TIME
from forms.definition import Form, Question, linked
from handlers import render
from locales import Translator
from models.tables import Event

# As models.queries reads them: (response id, submitted at, user id) of the submitted
# responses, and (response id, question id, value as JSON text) of their answers.
ResponseRow = tuple[int, datetime | None, int]
AnswerRow = tuple[int, str, str]
# The five levels by score, best first (the survey form gives each option its score), and
# those that count as satisfied: 非常满意 and 满意.
SCORES = (5, 4, 3, 2, 1)
SATISFIED = (5, 4)
LEVEL_COLOURS = {5: "#1a9850", 4: "#91cf60", 3: "#d9d9d9", 2: "#fc8d59", 1: "#d73027"}


@dataclass
class ItemFigures:
    question: Question
    counts: dict[int, int] = field(default_factory=dict)  # score → responses

    @property
    def valid(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> Decimal | None:
        """(非常满意 + 满意) / valid; None without responses."""
        if not self.valid:
            return None
        satisfied = sum(self.counts.get(score, 0) for score in SATISFIED)
        return Decimal(satisfied) / Decimal(self.valid)

    @property
    def mean(self) -> Decimal | None:
        if not self.valid:
            return None
        total = sum(score * n for score, n in self.counts.items())
        return Decimal(total) / Decimal(self.valid)


@dataclass
class Report:
    form: Form
    event: Event
    valid: int
    items: list[ItemFigures]
    responses: dict[int, dict[str, Any]]  # response id → {question id: value, ...}
    target: Decimal

    @property
    def overall(self) -> ItemFigures:
        overall_id = str(self.form.params["overall_item"])
        return next(item for item in self.items if item.question.id == overall_id)

    @property
    def met(self) -> bool | None:
        """Whether the overall satisfaction reaches the target (None: no responses yet)."""
        rate = self.overall.rate
        return None if rate is None else rate >= self.target


def scales(form: Form) -> list[Question]:
    return [q for q in form.questions if q.options and all(o.score for o in q.options)]


def compute(
    programme: Form, event: Event, submitted: Sequence[ResponseRow], rows: Sequence[AnswerRow]
) -> Report:
    """The figures of one event's survey, judged against the call's K4 target."""
    form = linked(programme, "survey")
    items = {q.id: ItemFigures(q) for q in scales(form)}
    responses: dict[int, dict[str, Any]] = {
        rid: {"_submitted_at": at, "_user_id": uid} for rid, at, uid in submitted
    }
    scores = {(qid, o.id): o.score for qid, item in items.items() for o in item.question.options}
    decoded: dict[str, Any] = {}  # JSON text → value, parsed once per distinct answer
    for response_id, question_id, raw in rows:
        value = decoded.get(raw)
        if value is None and raw not in decoded:
            value = decoded[raw] = json.loads(raw)
        responses[response_id][question_id] = value
        score = scores.get((question_id, str(value)))
        if score is not None:
            counts = items[question_id].counts
            counts[score] = counts.get(score, 0) + 1
    target = Decimal(str(programme.params["min_satisfaction"]))
    return Report(form, event, len(responses), list(items.values()), responses, target)


def _rate(t: Translator, value: Decimal | None) -> str:
    return t.percent(value, digits=1) if value is not None else "—"


def _mean(t: Translator, value: Decimal | None) -> str:
    return t.number(value, digits=2) if value is not None else "—"


def report_text(t: Translator, report: Report) -> str:
    event = report.event
    lines = [
        render.bold(t("report.title", title=escape(event.title))),
        t("report.event", date=t.date(event.event_date), place=escape(event.place)),
        t("report.valid", count=report.valid),
        "",
    ]
    for item in report.items:
        counts = " / ".join(str(item.counts.get(score, 0)) for score in SCORES)
        lines.append(
            t(
                "report.item",
                label=t(item.question.label),
                rate=_rate(t, item.rate),
                mean=_mean(t, item.mean),
                counts=counts,
            )
        )
    lines += ["", t("report.counts_legend"), ""]
    overall = _rate(t, report.overall.rate)
    target = t.percent(report.target, digits=0)
    if report.met is None:
        lines.append(t("report.no_responses", target=target))
    elif report.met:
        lines.append("✅ " + t("report.met", rate=overall, target=target))
    else:
        lines.append("❌ " + t("report.not_met", rate=overall, target=target))
    return "\n".join(lines)


@cache
def chart_font_path() -> Path:
    """Noto Sans CJK SC, as shipped in the mplfonts wheel: found on every machine that
    installed patentbot, unlike a system CJK font."""
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    if not path.is_file():
        raise FileNotFoundError(f"CJK font missing: {path} (reinstall mplfonts)")
    return path


def chart_png(t: Translator, report: Report) -> bytes:
    """Stacked horizontal bars: for each item, the share of responses at each level."""
    import matplotlib

    matplotlib.use("Agg")  # no display; also keeps pyplot's GUI backends unloaded
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    font = font_manager.FontProperties(fname=str(chart_font_path()))
    figure = Figure(figsize=(8, 0.6 * len(report.items) + 2), dpi=120)
    axes = figure.subplots()
    labels = [t(item.question.label) for item in report.items]
    left = [0.0] * len(report.items)
    level_labels = {o.score: t(o.label) for o in report.items[0].question.options if o.score}
    for score in SCORES:
        shares = [
            100 * item.counts.get(score, 0) / item.valid if item.valid else 0.0
            for item in report.items
        ]
        axes.barh(labels, shares, left=left, color=LEVEL_COLOURS[score], label=level_labels[score])
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel(t("report.chart_axis"), fontproperties=font)
    title = t.plural(
        "report.chart_title", "report.chart_title.plural", report.valid, title=report.event.title
    )
    axes.set_title(title, fontproperties=font)
    for tick in axes.get_yticklabels():
        tick.set_fontproperties(font)
    axes.legend(prop=font, loc="lower center", bbox_to_anchor=(0.5, -0.45), ncol=5, frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", bbox_inches="tight")
    return out.getvalue()


def report_xlsx(t: Translator, report: Report, *, identify: bool = False) -> bytes:
    """A summary sheet with the report's numbers and a sheet of raw responses; attendees
    are numbered, not identified, unless ``identify`` (then their Telegram user id).

    xlsxwriter streams rows (constant_memory) about twice as fast as openpyxl writes
    them, which keeps a 10,000-response report within its second."""
    import xlsxwriter

    out = io.BytesIO()
    # What attendees typed is text: "=1+1" or a URL must not become a formula or a link.
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True, **options})
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": "0.0%"})
    score = book.add_format({"num_format": "0.00"})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})

    summary = book.add_worksheet(t("report.sheet_summary"))
    summary.set_column(0, 0, 24)
    summary.write(0, 0, t("report.title", title=report.event.title), bold)
    summary.write_row(1, 0, [t("report.col_valid"), report.valid])
    levels = [t(o.label) for o in report.items[0].question.options] if report.items else []
    header = [t("report.col_item"), *levels, t("report.col_valid"), t("report.col_rate")]
    summary.write_row(3, 0, [*header, t("report.col_mean")], bold)
    row = 4
    for item in report.items:
        counts = [item.counts.get(level, 0) for level in SCORES]
        summary.write_row(row, 0, [t(item.question.label), *counts, item.valid])
        if item.rate is not None and item.mean is not None:
            summary.write_number(row, 7, float(item.rate), percent)
            summary.write_number(row, 8, float(item.mean), score)
        row += 1
    met = {True: t("report.xlsx_met"), False: t("report.xlsx_not_met"), None: "—"}[report.met]
    summary.write(row + 1, 0, t("report.col_target"), bold)
    summary.write_number(row + 1, 1, float(report.target), percent)
    summary.write(row + 1, 2, met)

    raw = book.add_worksheet(t("report.sheet_responses"))
    questions = list(report.form.questions)
    header = [t("report.col_number"), t("report.col_submitted")]
    header += [t("report.col_user")] if identify else []
    raw.write_row(0, 0, header + [t(q.label) for q in questions], bold)
    first_answer = len(header)
    labels = {(q.id, o.id): t(o.label) for q in questions for o in q.options}
    for number, response in enumerate(report.responses.values(), start=1):
        raw.write_number(number, 0, number)
        submitted = response["_submitted_at"]
        if submitted is not None:
            raw.write_datetime(
                number, 1, submitted.astimezone(LOCAL_TIME).replace(tzinfo=None), when
            )
        if identify:
            raw.write_number(number, 2, response["_user_id"])
        answers = [response.get(q.id) for q in questions]
        raw.write_row(
            number,
            first_answer,
            [labels.get((q.id, str(a)), a) for q, a in zip(questions, answers, strict=True)],
        )
    book.close()
    return out.getvalue()
