"""Read a generated .docx back the way a reader sees it."""

from __future__ import annotations

import io
from dataclasses import dataclass

from docx import Document
from docx.enum.text import WD_COLOR_INDEX


@dataclass
class Docx:
    paragraphs: list[str]
    headings: list[str]
    tables: list[list[list[str]]]
    highlighted: list[str]  # text of the runs highlighted yellow (placeholders)
    east_asian_font: str | None

    @property
    def text(self) -> str:
        cells = [c for table in self.tables for row in table for c in row]
        return "\n".join(self.paragraphs + cells)

    def row(self, first_cell: str) -> list[str]:
        for table in self.tables:
            for row in table:
                if row[0] == first_cell:
                    return row
        raise AssertionError(f"no table row starting with {first_cell!r}")


def read_docx(content: bytes) -> Docx:
    document = Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    headings = [
        p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))
    ]
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    runs = [r for p in document.paragraphs for r in p.runs]
    runs += [
        r
        for table in document.tables
        for row in table.rows
        for cell in row.cells
        for p in cell.paragraphs
        for r in p.runs
    ]
    highlighted = [r.text for r in runs if r.font.highlight_color == WD_COLOR_INDEX.YELLOW]
    fonts = document.styles["Normal"].element.rPr.rFonts
    east = fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
    return Docx(paragraphs, headings, tables, highlighted, east)
