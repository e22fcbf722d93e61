"""An event's satisfaction figures, for acceptance (clause K4: satisfaction ≥ 85%).

Satisfaction rate = (非常满意 + 满意) / valid questionnaires, per item; the target is
judged on the survey's overall item. A valid questionnaire is a submitted response.
The report is text for the chat, a bar chart (PNG) whose Chinese labels render with a
bundled Noto Sans CJK font, and a spreadsheet (summary + raw responses, anonymous
unless asked otherwise).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from forms.answers import LOCAL_TIME
from forms.definition import Form, Question
from locales import Translator
from models.tables import Event

# (response id, submitted at, user id, question id, stored value), as models.queries reads them
AnswerRow = tuple[int, datetime | None, int, str, Any]
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
        return Decimal(self.counts.get(5, 0) + self.counts.get(4, 0)) / Decimal(self.valid)

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


def compute(form: Form, event: Event, rows: Sequence[AnswerRow]) -> Report:
    items = {q.id: ItemFigures(q) for q in scales(form)}
    responses: dict[int, dict[str, Any]] = {}
    scores = {(qid, o.id): o.score for qid, item in items.items() for o in item.question.options}
    for response_id, submitted_at, user_id, question_id, value in rows:
        response = responses.setdefault(
            response_id, {"_submitted_at": submitted_at, "_user_id": user_id}
        )
        response[question_id] = value
        score = scores.get((question_id, str(value)))
        if score is not None:
            counts = items[question_id].counts
            counts[score] = counts.get(score, 0) + 1
    target = Decimal(str(form.params["target"]))
    return Report(form, event, len(responses), list(items.values()), responses, target)


def _rate(t: Translator, value: Decimal | None) -> str:
    return t.percent(value, digits=1) if value is not None else "—"


def _mean(t: Translator, value: Decimal | None) -> str:
    return t.number(value, digits=2) if value is not None else "—"


def report_text(t: Translator, report: Report) -> str:
    event = report.event
    lines = [
        "<b>" + t("report.title", title=escape(event.title)) + "</b>",
        t("report.event", date=t.date(event.event_date), place=escape(event.place)),
        t("report.valid", count=report.valid),
        "",
    ]
    for item in report.items:
        counts = " / ".join(str(item.counts.get(score, 0)) for score in (5, 4, 3, 2, 1))
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
    for score in (5, 4, 3, 2, 1):
        shares = [
            100 * item.counts.get(score, 0) / item.valid if item.valid else 0.0
            for item in report.items
        ]
        axes.barh(labels, shares, left=left, color=LEVEL_COLOURS[score], label=level_labels[score])
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel(t("report.chart_axis"), fontproperties=font)
    axes.set_title(
        t("report.chart_title", title=report.event.title, count=report.valid),
        fontproperties=font,
    )
    for tick in axes.get_yticklabels():
        tick.set_fontproperties(font)
    axes.legend(prop=font, loc="lower center", bbox_to_anchor=(0.5, -0.45), ncol=5, frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", bbox_inches="tight")
    return out.getvalue()


def report_xlsx(t: Translator, report: Report, *, identify: bool = False) -> bytes:
    """A summary sheet with the report's numbers and a sheet of raw responses; attendees
    are numbered, not named, unless ``identify``."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # streams rows: fast for tens of thousands
    summary = book.create_sheet(t("report.sheet_summary"))
    levels = [t(o.label) for o in report.items[0].question.options] if report.items else []
    summary.append([t("report.title", title=report.event.title)])
    summary.append([t("report.col_valid"), report.valid])
    summary.append([])
    summary.append(
        [t("report.col_item"), *levels, t("report.col_valid"), t("report.col_rate"),
         t("report.col_mean")]
    )  # fmt: skip
    for item in report.items:
        counts = [item.counts.get(score, 0) for score in (5, 4, 3, 2, 1)]
        rate = float(item.rate) if item.rate is not None else None
        mean = float(round(item.mean, 2)) if item.mean is not None else None
        summary.append([t(item.question.label), *counts, item.valid, rate, mean])
    summary.append([])
    met = {True: t("report.xlsx_met"), False: t("report.xlsx_not_met"), None: "—"}[report.met]
    summary.append([t("report.col_target"), float(report.target), met])

    raw = book.create_sheet(t("report.sheet_responses"))
    questions = list(report.form.questions)
    header = [t("report.col_number"), t("report.col_submitted")]
    header += [t("report.col_user"), t("report.col_name")] if identify else []
    raw.append(header + [t(q.label) for q in questions])
    labels = {(q.id, o.id): t(o.label) for q in questions for o in q.options}
    for number, response in enumerate(report.responses.values(), start=1):
        submitted = response["_submitted_at"]
        row: list[Any] = [
            number,
            submitted.astimezone(LOCAL_TIME).replace(tzinfo=None) if submitted else None,
        ]
        if identify:
            row += [response["_user_id"], response.get("_name")]
        for q in questions:
            value = response.get(q.id)
            row.append(labels.get((q.id, str(value)), value))
        raw.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
