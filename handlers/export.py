"""/export (admins): one XLSX workbook — the applications (one row each: the answers as
columns, the flags, the computed ratios) and the users — sent as a document.

What users typed stays data: a text starting with "=" is written as a string cell, never
as a formula; times are UTC+8 (Excel has no time zones).
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel.ext.asyncio.session import AsyncSession

from forms.answers import LOCAL_TIME, Value, decode
from forms.definition import Form, Question
from handlers import render
from handlers.account import LANGUAGE_NAMES
from handlers.context import Turn
from handlers.types import Document, Reply
from locales import N_, Translator
from models import admin_queries as aq
from models.tables import Application, Flag, User, utcnow

STATUS_NAMES = {
    "in_progress": N_("export.status.in_progress"),
    "submitted": N_("export.status.submitted"),
}
COLUMN_WIDTH = 16
WIDE_COLUMN = 48  # the flags
PERCENT_FORMAT = "0.00%"
NUMBER_FORMAT = "#,##0.##"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
SHEET_NAME_LIMIT = 31


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(LOCAL_TIME).replace(tzinfo=None)


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> None:
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # typed text, not a formula
    elif isinstance(value, datetime):
        cell.number_format = TIME_FORMAT


def _answer(t: Translator, question: Question, stored: object) -> Value:
    """An answer as a cell: numbers and dates typed, choices in words."""
    value = decode(question, stored)
    if value is None:
        return None
    if isinstance(value, datetime):
        return _local(value)
    if question.type in ("yes_no", "choice"):
        return render.plain(render.show_value(t, question, value))
    if isinstance(value, Decimal | int | date):
        return value
    return str(value)


def _flags(t: Translator, flags: list[Flag], severity: str) -> str:
    return "\n".join(render.plain(render.flag_line(t, f)) for f in flags if f.severity == severity)


def _header(sheet: Worksheet, titles: list[str], wide: set[int]) -> None:
    for column, title in enumerate(titles, start=1):
        _put(sheet, 1, column, title)
        sheet.cell(row=1, column=column).font = Font(bold=True)
        width = WIDE_COLUMN if column in wide else COLUMN_WIDTH
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "B2"


def _applications_sheet(
    sheet: Worksheet,
    t: Translator,
    form: Form,
    applications: list[Application],
    answers: dict[int, dict[str, Any]],
    flags: dict[int, list[Flag]],
) -> None:
    fixed = [
        t("export.col.id"),
        t("export.col.user"),
        t("export.col.version"),
        t("export.col.status"),
        t("export.col.verdict"),
        t("export.col.created"),
        t("export.col.submitted"),
    ]
    questions = list(form.questions)
    severities = list(render.SEVERITIES)
    titles = [
        *fixed,
        *(render.plain(render.label(t, form, q)) for q in questions),
        *(render.plain(t(heading)) for _, heading in render.SEVERITIES.values()),
        *(d.id for d in form.derived),
    ]
    first_flag = len(fixed) + len(questions) + 1
    _header(sheet, titles, set(range(first_flag, first_flag + len(severities))))
    for row, application in enumerate(applications, start=2):
        assert application.id is not None
        verdict = application.verdict
        values: list[Any] = [
            application.id,
            application.user_id,
            application.version,
            t(STATUS_NAMES.get(application.status, application.status)),
            render.plain(t(render.VERDICTS[verdict][1])) if verdict else None,
            _local(application.created_at),
            _local(application.submitted_at),
        ]
        given = answers.get(application.id, {})
        values += [_answer(t, q, given[q.id]) if q.id in given else None for q in questions]
        own = flags.get(application.id, [])
        values += [_flags(t, own, severity) or None for severity in severities]
        figures = application.figures or {}
        for column, value in enumerate(values, start=1):
            _put(sheet, row, column, value)
        for offset, derived in enumerate(form.derived):
            raw = figures.get(derived.id)
            column = len(values) + offset + 1
            _put(sheet, row, column, Decimal(raw) if raw is not None else None)
            cell = sheet.cell(row=row, column=column)
            cell.number_format = PERCENT_FORMAT if derived.display == "percent" else NUMBER_FORMAT
        for column in range(first_flag, first_flag + len(severities)):
            sheet.cell(row=row, column=column).alignment = Alignment(wrap_text=True)


def _users_sheet(
    sheet: Worksheet,
    t: Translator,
    users: list[User],
    applications: list[Application],
    admins: set[int],
) -> None:
    _header(
        sheet,
        [
            t("export.col.user"),
            t("export.col.name"),
            t("export.col.language"),
            t("export.col.first_contact"),
            t("export.col.unreachable"),
            t("export.col.admin"),
            t("export.col.applications"),
            t("export.col.latest_verdict"),
        ],
        set(),
    )
    count: Counter[int] = Counter(a.user_id for a in applications)
    latest: dict[int, Application] = {}
    for application in applications:  # in id order: the last submitted one wins
        if application.status == "submitted":
            latest[application.user_id] = application
    yes = t("button.yes")
    for row, user in enumerate(users, start=2):
        verdict = latest[user.id].verdict if user.id in latest else None
        values = [
            user.id,
            user.display_name,
            LANGUAGE_NAMES.get(user.locale, user.locale),
            _local(user.created_at),
            _local(user.unreachable_at),
            yes if user.id in admins else None,
            count[user.id],
            render.plain(t(render.VERDICTS[verdict][1])) if verdict else None,
        ]
        for column, value in enumerate(values, start=1):
            _put(sheet, row, column, value)


def _sheet_name(text: str) -> str:
    return "".join(c for c in text if c not in "[]:*?/\\")[:SHEET_NAME_LIMIT]


async def workbook(
    session: AsyncSession, form: Form, t: Translator, admin_ids: frozenset[int]
) -> tuple[bytes, int, int]:
    """(the .xlsx file, applications, users)."""
    applications = await aq.programme_applications(session, form.id)
    answers = await aq.programme_answers(session, form.id)
    flags = await aq.programme_flags(session, form.id)
    users = await aq.all_users(session)
    admins = set(admin_ids) | {a.user_id for a, _ in await aq.stored_admins(session)}
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = _sheet_name(t("export.sheet.applications"))
    _applications_sheet(first, t, form, applications, answers, flags)
    _users_sheet(
        book.create_sheet(_sheet_name(t("export.sheet.users"))), t, users, applications, admins
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), len(applications), len(users)


async def command(turn: Turn) -> list[Reply]:
    t = turn.t
    content, applications, users = await workbook(
        turn.session, turn.form, t, turn.context.admin_ids
    )
    stamp = utcnow().astimezone(LOCAL_TIME).strftime("%Y%m%d-%H%M")
    filename = t("export.filename", stamp=stamp) + ".xlsx"
    caption = t("export.caption", applications=t.number(applications), users=t.number(users))
    return [Reply(document=Document(filename, content, caption))]
