"""Writes the stock ``draft_application.docx`` (a docxtpl template) with python-docx.

The .docx is the template: a programme officer may restyle it in Word (fonts, spacing,
margins, the order of sections) without touching code. This script only makes the
stock layout again: ``python templates/make_draft_template.py``. Words come from the
catalogs (``{{ L.name }}`` is the catalog key ``draft.name``), values from the
application (``{{r v.name }}``: rich text, highlighted where it is still to be filled).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table

OUT = Path(__file__).resolve().parent / "draft_application.docx"
BODY_FONT, HEADING_FONT = "SimSun", "SimHei"


THEME_FONTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def east_asian(style_font: object, name: str) -> None:
    """python-docx sets the Latin font only; Chinese text needs w:eastAsia too. A theme
    font (the stock headings' majorHAnsi/majorEastAsia) wins over a named one in Word, so
    those go: a heading is then really in 黑体."""
    r_pr = style_font.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attribute in THEME_FONTS:
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attribute), name)


def first_line_indent(style: object, chars: int) -> None:
    """An indent of so many characters (w:firstLineChars, which Word and WPS scale with
    the font), and its length at 小四 for readers that only know w:firstLine."""
    p_pr = style.element.get_or_add_pPr()  # type: ignore[attr-defined]
    indent = p_pr.find(qn("w:ind"))
    if indent is None:
        indent = OxmlElement("w:ind")
        p_pr.append(indent)
    indent.set(qn("w:firstLineChars"), str(chars * 100))
    indent.set(qn("w:firstLine"), str(chars * 240))  # 12 pt = 240 twips a character


def set_styles(document: Document) -> None:
    styles = document.styles
    normal = styles["Normal"]
    normal.font.size = Pt(12)  # 小四
    east_asian(normal, BODY_FONT)
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(0)
    for name, size in (("Title", 22), ("Heading 1", 16), ("Heading 2", 14)):
        style = styles[name]
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = None
        east_asian(style, HEADING_FONT)
        style.paragraph_format.space_before = Pt(12)
        style.paragraph_format.space_after = Pt(6)
    body = styles["Body Text"]  # running text: indented two characters, as Chinese documents are
    body.font.size = Pt(12)
    east_asian(body, BODY_FONT)
    body.paragraph_format.line_spacing = 1.5
    body.paragraph_format.space_after = Pt(0)
    first_line_indent(body, 2)
    title = styles["Title"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    borders = title.element.pPr.find(qn("w:pBdr"))  # the stock Title is underlined
    if borders is not None:
        title.element.pPr.remove(borders)


def page_number_footer(document: Document) -> None:
    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


BODY = "Body Text"


def line(document: Document, text: str, style: str | None = None) -> None:
    document.add_paragraph(text, style=style)


def set_widths(grid: Table, widths: list[int]) -> None:
    """Column widths in mm, on the grid and on each cell (Word and LibreOffice read either)."""
    grid.autofit = False
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = Mm(width)
        for cell in column.cells:
            cell.width = Mm(width)


def keep_rows_whole(grid: Table, header: bool) -> None:
    """No row breaks across pages; a header row repeats on each page the table spans."""
    for r, row in enumerate(grid.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if header and r == 0:
            properties.append(OxmlElement("w:tblHeader"))


def table(
    document: Document, header: list[str], body: list[str], loop: str | None, widths: list[int]
) -> Table:
    """A grid table: a header row, then one templated row (repeated when ``loop`` is set);
    column widths in millimetres (the page holds 154 mm between the margins)."""
    rows = [header] + ([[f"{{%tr for {loop} %}}"] + [""] * (len(header) - 1)] if loop else [])
    rows += [body] + ([["{%tr endfor %}"] + [""] * (len(header) - 1)] if loop else [])
    grid = document.add_table(rows=len(rows), cols=len(header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(grid, widths)
    keep_rows_whole(grid, header=True)
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            cell = grid.cell(r, c)
            cell.paragraphs[0].add_run(text).bold = r == 0
    return grid


def key_value_table(document: Document, pairs: list[tuple[str, str]]) -> None:
    grid = document.add_table(rows=len(pairs), cols=2)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(grid, [52, 102])  # the longest label on one line
    keep_rows_whole(grid, header=False)
    for r, (label, value) in enumerate(pairs):
        grid.cell(r, 0).paragraphs[0].add_run(label).bold = True
        grid.cell(r, 1).paragraphs[0].add_run(value)


def page_break(document: Document) -> None:
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def build() -> Document:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4
    section.left_margin = section.right_margin = Mm(28)
    section.top_margin = section.bottom_margin = Mm(25)
    set_styles(document)
    page_number_footer(document)

    # Cover
    for _ in range(4):
        document.add_paragraph()
    line(document, "{{ programme }}", "Title")
    line(document, "{{ L.doc_title }}", "Title")
    line(document, "{{ L.draft_notice }}")
    line(document, "{%p if banner %}")
    line(document, "{{r banner }}")
    line(document, "{%p for reason in disqualifiers %}")
    line(document, "{{r reason }}")
    line(document, "{%p endfor %}")
    line(document, "{%p endif %}")
    key_value_table(
        document,
        [
            ("{{ L.applicant }}", "{{r v.enterprise_name }}"),
            ("{{ L.joint_applicants }}", "{{r v.joint_applicants }}"),
            ("{{ L.contact }}", "{{r v.contact }}"),
            ("{{ L.date }}", "{{ date }}"),
        ],
    )
    page_break(document)

    # 一、申报单位基本情况
    line(document, "{{ L.h_applicant }}", "Heading 1")
    key_value_table(
        document,
        [
            ("{{ L.enterprise_name }}", "{{r v.enterprise_name }}"),
            ("{{ L.uscc }}", "{{r v.uscc }}"),
            ("{{ L.address }}", "{{r v.address }}"),
            ("{{ L.legal_representative }}", "{{r v.legal_representative }}"),
            ("{{ L.contact }}", "{{r v.contact }}"),
            ("{{ L.cluster }}", "{{r v.cluster }}"),
            ("{{ L.sub_field }}", "{{r v.sub_field }}"),
        ],
    )
    line(document, "{{ L.finance_caption }}")
    table(
        document,
        ["{{ L.year }}", "{{ L.revenue }}", "{{ L.rd }}"],
        ["{{ y.year }}", "{{ y.revenue }}", "{{ y.rd }}"],
        "y in finance",
        [34, 60, 60],
    )
    line(document, "{{r v.ratios }}", BODY)

    # 二、申报条件自评
    line(document, "{{ L.h_conditions }}", "Heading 1")
    table(
        document,
        ["{{ L.clause }}", "{{ L.condition }}", "{{ L.situation }}", "{{ L.verdict }}"],
        ["{{ c.clause }}", "{{r c.condition }}", "{{r c.situation }}", "{{r c.verdict }}"],
        "c in conditions",
        [17, 52, 60, 25],
    )

    # 三、需要说明的事项
    line(document, "{{ L.h_points }}", "Heading 1")
    line(document, "{%p for point in points %}")
    line(document, "{{r point }}", BODY)
    line(document, "{%p endfor %}")

    # 四、建设方案 (T1–T5)
    line(document, "{{ L.h_plan }}", "Heading 1")
    line(document, "{%p for task in tasks %}")
    line(document, "{{ task.title }}", "Heading 2")
    line(document, "{{r task.body }}", BODY)
    line(document, "{%p endfor %}")

    # 五、绩效目标 (K1–K4)
    line(document, "{{ L.h_targets }}", "Heading 1")
    table(
        document,
        ["{{ L.clause }}", "{{ L.target }}", "{{ L.our_plan }}"],
        ["{{ k.clause }}", "{{r k.target }}", "{{r k.plan }}"],
        "k in targets",
        [17, 67, 70],
    )

    # 六、实施进度 (D1–D3)
    line(document, "{{ L.h_schedule }}", "Heading 1")
    table(
        document,
        ["{{ L.clause }}", "{{ L.stage }}", "{{ L.period }}", "{{ L.work }}"],
        ["{{ s.clause }}", "{{ s.stage }}", "{{ s.period }}", "{{r s.work }}"],
        "s in schedule",
        [17, 30, 40, 67],
    )

    # 七、资金使用计划 (M1–M2)
    line(document, "{{ L.h_budget }}", "Heading 1")
    line(document, "{{r budget_text }}", BODY)
    table(
        document,
        ["{{ L.clause }}", "{{ L.payment }}", "{{ L.amount }}"],
        ["{{ p.clause }}", "{{ p.when }}", "{{ p.amount }}"],
        "p in payments",
        [17, 90, 47],
    )

    # 八、保障措施
    line(document, "{{ L.h_guarantees }}", "Heading 1")
    line(document, "{%p for g in guarantees %}")
    line(document, "{{ g }}", BODY)
    line(document, "{%p endfor %}")

    # 承诺书
    page_break(document)
    line(document, "{{ L.commitment_title }}", "Title")
    line(document, "{%p for paragraph in commitment %}")
    line(document, "{{r paragraph }}", BODY)
    line(document, "{%p endfor %}")
    for label in ("commitment_stamp", "commitment_signature", "commitment_date"):
        paragraph = document.add_paragraph(f"{{{{ L.{label} }}}}")
        paragraph.paragraph_format.left_indent = Mm(70)
        paragraph.paragraph_format.space_before = Pt(24)
    return document


if __name__ == "__main__":
    build().save(OUT)
    print(f"wrote {OUT}")
