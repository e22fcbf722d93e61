"""An event's satisfaction figures, for acceptance (clause K4: the call's min_satisfaction).

Satisfaction rate = (非常满意 + 满意) / valid questionnaires, per item; the target is
judged on the survey's overall item. A valid questionnaire is a submitted response — of
an attendee who checked in with a card (签到), when the event has cards: the report states
them against attendance (回收率), and says so when an event has none.
The report is text for the chat, a bar chart (PNG) whose Chinese labels render with a
bundled Noto Sans CJK font, and a spreadsheet (summary + raw responses, anonymous).
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
from typing import TYPE_CHECKING, Any

from forms.definition import Form, Question, linked
from handlers.kernel import render
from handlers.kernel.spreadsheet import BOOK_OPTIONS, Sheet, add_formats, text_width
from locales import LOCAL_TIME, Translator
from models.attendance import Attendance
from models.tables import TrainingEvent

if TYPE_CHECKING:  # matplotlib is imported only to draw a chart
    from matplotlib.figure import Figure

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
    event: TrainingEvent
    valid: int
    items: list[ItemFigures]
    responses: dict[int, dict[str, Any]]  # response id → {question id: value, ...}
    target: Decimal
    attendance: Attendance | None = None  # None: the event has no check-in cards
    unchecked: int = 0  # submitted without a check-in: not counted

    @property
    def response_rate(self) -> Decimal | None:
        """回收率: valid questionnaires per attendee checked in."""
        if self.attendance is None or not self.attendance.checked_in:
            return None
        return Decimal(self.valid) / Decimal(self.attendance.checked_in)

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
    programme: Form,
    event: TrainingEvent,
    submitted: Sequence[ResponseRow],
    rows: Sequence[AnswerRow],
    attendance: Attendance | None = None,
) -> Report:
    """The figures of one event's survey, judged against the call's K4 target: with
    check-in cards, only the responses of attendees who checked in with one count."""
    form = linked(programme, "survey")
    items = {q.id: ItemFigures(q) for q in scales(form)}
    counted = [r for r in submitted if attendance is None or r[2] in attendance.users]
    responses: dict[int, dict[str, Any]] = {rid: {"_submitted_at": at} for rid, at, _ in counted}
    scores = {(qid, o.id): o.score for qid, item in items.items() for o in item.question.options}
    decoded: dict[str, Any] = {}  # JSON text → value, parsed once per distinct answer
    for response_id, question_id, raw in rows:
        if response_id not in responses:
            continue  # of a response without a check-in
        value = decoded.get(raw)
        if value is None and raw not in decoded:
            value = decoded[raw] = json.loads(raw)
        responses[response_id][question_id] = value
        score = scores.get((question_id, str(value)))
        if score is not None:
            counts = items[question_id].counts
            counts[score] = counts.get(score, 0) + 1
    target = Decimal(str(programme.params["min_satisfaction"]))
    unchecked = len(submitted) - len(counted)
    valid = len(responses)
    return Report(
        form, event, valid, list(items.values()), responses, target, attendance, unchecked
    )


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
        *_attendance_lines(t, report),
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


def _attendance_lines(t: Translator, report: Report) -> list[str]:
    """The responses against attendance, as an acceptance panel reads 满意度: how many came
    (checked in), how many answered (回收率), and what was not counted and why."""
    attendance = report.attendance
    if attendance is None:
        return [t("report.no_check_in")]
    lines = [
        t(
            "report.attendance",
            checked_in=t.number(attendance.checked_in),
            issued=t.number(attendance.issued),
            rate=_rate(t, report.response_rate),
        )
    ]
    if report.unchecked:
        lines.append(t("report.unchecked", count=t.number(report.unchecked)))
    return lines


@cache
def chart_font_path() -> Path:
    """Noto Sans CJK SC, as shipped in the mplfonts wheel: found on every machine that
    installed patentbot, unlike a system CJK font."""
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    if not path.is_file():
        raise FileNotFoundError(f"CJK font missing: {path} (reinstall mplfonts)")
    return path


def chart_figure(t: Translator, report: Report) -> Figure:
    """Stacked horizontal bars, one per item: the share of responses at each level, the
    satisfied levels first, so the green part of a bar is its satisfaction rate, written
    beside it and measured against the target's dashed line. Sized for an A4 page."""
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    font = font_manager.FontProperties(fname=str(chart_font_path()))
    figure = Figure(figsize=(6.3, 0.45 * len(report.items) + 1.9), layout="constrained")
    axes = figure.subplots()
    title = t.plural(
        "report.chart_title", "report.chart_title.plural", report.valid, title=report.event.title
    )
    # Room above the bars for the legend's one or two rows (see the end).
    rows = 1 if not report.valid or _one_row(t, report) else 2
    # The event's title is what an officer typed: "$…$" is text, never mathtext.
    axes.set_title(title, fontproperties=font, pad=10 + 15 * rows, parse_math=False)
    labels = [t(item.question.label) for item in report.items]
    axes.set_yticks(range(len(labels)), labels, fontproperties=font)
    axes.set_ylim(len(labels) - 0.5, -0.5)  # the first item on top
    axes.set_xlim(0, 100)
    axes.set_xlabel(t("report.chart_axis"), fontproperties=font)
    if not report.valid:  # no bars to draw: say so where they would be
        axes.text(50, (len(labels) - 1) / 2, t("report.chart_empty"), fontproperties=font,
                  ha="center", va="center", fontsize=12)  # fmt: skip
        return figure
    small = font.copy()
    small.set_size(8)
    _bars(t, axes, report, small)
    target = t("report.chart_target", target=t.percent(report.target, digits=0))
    axes.axvline(100 * float(report.target), color="#333333", linestyle="--", linewidth=1,
                 zorder=3, label=target)  # fmt: skip
    # Under the title, above the bars (no band of white below the axis); in two rows where
    # one would run off the page (English).
    axes.legend(prop=small, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False,
                ncols=6 if rows == 1 else 3, handlelength=1.5, columnspacing=1)  # fmt: skip
    return figure


def _one_row(t: Translator, report: Report) -> bool:
    """Whether the legend (the target and the five levels) fits in one row."""
    names = [t("report.chart_target", target=t.percent(report.target, digits=0))]
    names += [t(o.label) for o in report.items[0].question.options]
    return sum(text_width(name) + 6 for name in names) <= 90


def _bars(t: Translator, axes: Any, report: Report, small: Any) -> None:
    """The stacked shares of each item, and its satisfaction rate beside it."""
    level_labels = {o.score: t(o.label) for o in report.items[0].question.options if o.score}
    left = [0.0] * len(report.items)
    for score in SCORES:
        shares = [
            100 * item.counts.get(score, 0) / item.valid if item.valid else 0.0
            for item in report.items
        ]
        axes.barh(range(len(shares)), shares, left=left, color=LEVEL_COLOURS[score],
                  label=level_labels[score], height=0.6)  # fmt: skip
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.text(101, -0.5, t("report.col_rate"), fontproperties=small, va="bottom")
    for row, item in enumerate(report.items):
        axes.text(101, row, _rate(t, item.rate), va="center", fontsize=9)


def chart_png(t: Translator, report: Report) -> bytes:
    """The chart at 300 dpi: sharp when pasted into an A4 acceptance report."""
    out = io.BytesIO()
    chart_figure(t, report).savefig(out, format="png", dpi=300)
    return out.getvalue()


def report_xlsx(t: Translator, report: Report) -> bytes:
    """A summary sheet with the report's numbers and a sheet of raw responses. Attendees
    are numbered, never identified: the survey tells them their answers are anonymous.

    xlsxwriter streams rows (constant_memory) about twice as fast as openpyxl writes
    them, which keeps a 10,000-response report within its second."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, BOOK_OPTIONS)
    formats = add_formats(book)
    summary = Sheet(book, t("report.sheet_summary"), formats)
    _summary(summary, t, report)
    raw = Sheet(book, t("report.sheet_responses"), formats)
    _responses(raw, t, report)
    for sheet in (summary, raw):
        sheet.finish()
    book.close()
    return out.getvalue()


def _summary(sheet: Sheet, t: Translator, report: Report) -> None:
    sheet.title(t("report.title", title=report.event.title))
    sheet.write([t("report.col_valid"), report.valid])
    if report.attendance is not None:
        sheet.write([t("report.col_checked_in"), report.attendance.checked_in])
        sheet.write([t("report.col_issued"), report.attendance.issued])
        sheet.write([t("report.col_response_rate"), report.response_rate], styles={1: "rate"})
        sheet.write([t("report.col_unchecked"), report.unchecked])
    else:
        sheet.write([t("report.col_checked_in"), render.plain(t("report.no_check_in"))])
    met = {True: t("report.xlsx_met"), False: t("report.xlsx_not_met"), None: "—"}[report.met]
    sheet.write([t("report.col_target"), report.target, met], styles={1: "rate"})
    sheet.write([])
    levels = [t(o.label) for o in report.items[0].question.options] if report.items else []
    rate, mean = len(levels) + 2, len(levels) + 3
    sheet.header([t("report.col_item"), *levels, t("report.col_valid"), t("report.col_rate"),
                  t("report.col_mean")])  # fmt: skip
    for item in report.items:
        counts = [item.counts.get(level, 0) for level in SCORES]
        sheet.write(
            [t(item.question.label), *counts, item.valid, item.rate, item.mean],
            styles={rate: "rate", mean: "score"},
        )


def _responses(sheet: Sheet, t: Translator, report: Report) -> None:
    questions = list(report.form.questions)
    fixed = [t("report.col_number"), t("report.col_submitted")]
    sheet.header([*fixed, *(t(q.label) for q in questions)])
    labels = {(q.id, o.id): t(o.label) for q in questions for o in q.options}
    for number, response in enumerate(report.responses.values(), start=1):
        submitted = response["_submitted_at"]
        when = submitted.astimezone(LOCAL_TIME).replace(tzinfo=None) if submitted else None
        answers = [response.get(q.id) for q in questions]
        shown = [labels.get((q.id, str(a)), a) for q, a in zip(questions, answers, strict=True)]
        sheet.write([number, when, *shown])
