"""Reading spreadsheets back as a person sees them."""

from __future__ import annotations

from openpyxl.utils import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet

DEFAULT_WIDTH = 8.43  # Excel's, for a column the file gives no width


def column_width(sheet: Worksheet, letter: str) -> float:
    """The width a column is shown at (openpyxl files runs of equal columns under the first)."""
    index = column_index_from_string(letter)
    for dimension in sheet.column_dimensions.values():
        if dimension.min is not None and dimension.min <= index <= dimension.max:
            return float(dimension.width)
    return DEFAULT_WIDTH
