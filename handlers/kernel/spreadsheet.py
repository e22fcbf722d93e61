"""Worksheets that open ready to read: each value written as its type, the header row
frozen and filterable, every column as wide as its content (a CJK character counts two).

Used by /export and the survey report. Rows are streamed (xlsxwriter's constant_memory),
so widths are measured while writing and set when the sheet is finished.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

MIN_WIDTH = 6
MAX_WIDTH = 60  # wider text wraps instead
WRAPPED_WIDTH = 48
# How many characters a typed value shows as, for its column's width.
FORMAT_WIDTHS = {"time": 16, "date": 10, "percent": 8, "rate": 7, "score": 6}
# Percentages are written truncated to the digits they show, as the chat shows them:
# 84.96% must read 84.9%, never an 85.0% that passes the target.
PERCENT_DIGITS = {"percent": 2, "rate": 1}
# Typed text is text: not a formula ("=…"), a link or a number.
BOOK_OPTIONS = {
    "in_memory": True,
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def add_formats(book: Any) -> dict[str, Any]:
    """The cell formats every sheet here uses, registered once per workbook."""
    return {
        "bold": book.add_format({"bold": True}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "time": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "percent": book.add_format({"num_format": "0.00%"}),
        "rate": book.add_format({"num_format": "0.0%"}),
        "number": book.add_format({"num_format": "#,##0.##"}),
        "score": book.add_format({"num_format": "0.00"}),
    }


def text_width(text: str) -> int:
    """Columns a text needs: its longest line, a wide (CJK) character counting two."""
    lines = text.splitlines() or [""]
    return max(
        sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) for line in lines
    )


class Sheet:
    """A worksheet written row by row, each value as its type."""

    def __init__(self, book: Any, name: str, formats: dict[str, Any]) -> None:
        self.sheet = book.add_worksheet(name)
        self.formats = formats
        self.row = 0
        self.widths: dict[int, int] = {}
        self.wrapped: set[int] = set()
        self.header_row: int | None = None
        self.columns = 0

    def title(self, text: str) -> None:
        """A heading row that may run across columns: not measured for their widths."""
        self.sheet.write_string(self.row, 0, text, self.formats["bold"])
        self.row += 1

    def header(self, titles: list[str], wrapped: set[int] | None = None) -> None:
        """The data's header: frozen above the rows (with the first column) and filterable."""
        self.wrapped = set(wrapped or ())
        self.header_row = self.row
        self.sheet.freeze_panes(self.row + 1, 1)
        self.write(titles, style="bold")

    def write(
        self, values: list[Any], *, style: str | None = None, styles: dict[int, str] | None = None
    ) -> None:
        """One row; ``styles`` gives some columns a number format ("percent", "score" …)."""
        for column, value in enumerate(values):
            named = (styles or {}).get(column, style)
            if value is not None and value != "":
                shown = self._cell(column, value, named)
                self.widths[column] = max(self.widths.get(column, 0), shown)
        self.columns = max(self.columns, len(values))
        self.row += 1

    def _cell(self, column: int, value: Any, named: str | None) -> int:
        """Write one value as its type; how many characters it shows as."""
        style = self.formats[named] if named else None
        if isinstance(value, datetime):
            self.sheet.write_datetime(self.row, column, value, self.formats["time"])
            return FORMAT_WIDTHS["time"]
        if isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
            self.sheet.write_datetime(self.row, column, moment, self.formats["date"])
            return FORMAT_WIDTHS["date"]
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            if named in PERCENT_DIGITS:
                step = Decimal(1).scaleb(-(PERCENT_DIGITS[named] + 2))
                exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
                value = exact.quantize(step, rounding=ROUND_DOWN)
            self.sheet.write_number(self.row, column, float(value), style)
            return FORMAT_WIDTHS.get(named or "", len(f"{float(value):,.2f}"))
        if column in self.wrapped:
            style = self.formats["wrap"]
        self.sheet.write_string(self.row, column, str(value), style)
        return text_width(str(value))

    def finish(self) -> None:
        """Set each column's width from what was written; filter the data's columns."""
        for column in range(self.columns):
            width = max(MIN_WIDTH, min(self.widths.get(column, 0) + 2, MAX_WIDTH))
            if column in self.wrapped:
                width = min(width, WRAPPED_WIDTH)
                self.sheet.set_column(column, column, width, self.formats["wrap"])
            else:
                self.sheet.set_column(column, column, width)
        if self.header_row is not None and self.columns:
            self.sheet.autofilter(self.header_row, 0, max(self.row - 1, self.header_row),
                                  self.columns - 1)  # fmt: skip
