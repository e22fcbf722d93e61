"""/export (admins): one XLSX workbook — the applications (one row each: the answers as
columns, the flags, the computed ratios) and the users — sent as a document.

What users typed stays data: every text is written as a string cell (never a formula, a
link or a number); times are UTC+8 (Excel has no time zones). Written row by row with
handlers/kernel/spreadsheet.py, like the survey report.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from forms.answers import Value, decode
from forms.definition import Form, Question
from handlers.kernel import render
from handlers.kernel.commands import Command
from handlers.kernel.context import Turn
from handlers.kernel.spreadsheet import BOOK_OPTIONS, Sheet, add_formats
from handlers.kernel.types import Document, Reply
from locales import LANGUAGE_NAMES, LOCAL_TIME, N_, Translator
from models import queries, statistics
from models.tables import Application, ApplicationStatus, Channel, Flag, User, utcnow

STATUS_NAMES = {
    ApplicationStatus.IN_PROGRESS: N_("export.status.in_progress"),
    ApplicationStatus.SUBMITTED: N_("export.status.submitted"),
}
SHEET_NAME_LIMIT = 31


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(LOCAL_TIME).replace(tzinfo=None)


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


def _applications_sheet(
    sheet: Sheet,
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
    first_flag = len(fixed) + len(questions)
    first_figure = first_flag + len(severities)
    sheet.header(
        [
            *fixed,
            *(render.plain(render.label(t, form, q)) for q in questions),
            *(render.plain(t(heading)) for _, heading in render.SEVERITIES.values()),
            *(t(d.label) for d in form.derived),
        ],
        wrapped=set(range(first_flag, first_figure)),
    )
    styles = {
        first_figure + i: "percent" if d.display == "percent" else "number"
        for i, d in enumerate(form.derived)
    }
    for application in applications:
        assert application.id is not None
        verdict = application.verdict
        given = answers.get(application.id, {})
        own = flags.get(application.id, [])
        figures = application.figures or {}
        sheet.write(
            [
                application.id,
                application.user_id,
                application.version,
                t(STATUS_NAMES.get(application.status, application.status)),
                render.plain(t(render.VERDICTS[verdict][1])) if verdict else None,
                _local(application.created_at),
                _local(application.submitted_at),
                *(_answer(t, q, given[q.id]) if q.id in given else None for q in questions),
                *(_flags(t, own, severity) for severity in severities),
                *(
                    Decimal(figures[d.id]) if figures.get(d.id) is not None else None
                    for d in form.derived
                ),
            ],
            styles=styles,
        )


# Where each user is, as the export and the office pages name it.
CHANNEL_NAMES = {
    Channel.TELEGRAM: N_("office.channel.telegram"),
    Channel.WEB: N_("office.channel.web"),
    Channel.CONSOLE: N_("office.channel.console"),
}


def _users_sheet(
    sheet: Sheet,
    t: Translator,
    users: list[User],
    applications: list[Application],
    admins: set[int],
) -> None:
    sheet.header(
        [
            t("export.col.user"),
            t("export.col.name"),
            t("export.col.channel"),
            t("export.col.language"),
            t("export.col.first_contact"),
            t("export.col.unreachable"),
            t("export.col.admin"),
            t("export.col.applications"),
            t("export.col.latest_verdict"),
        ]
    )
    count: Counter[int] = Counter(a.user_id for a in applications)
    latest: dict[int, Application] = {}
    for application in applications:  # in id order: the last submitted one wins
        if application.status == ApplicationStatus.SUBMITTED:
            latest[application.user_id] = application
    yes = t("button.yes")
    for user in users:
        verdict = latest[user.id].verdict if user.id in latest else None
        sheet.write(
            [
                user.id,
                user.display_name,
                t(CHANNEL_NAMES[user.channel]),
                LANGUAGE_NAMES.get(user.locale, user.locale),
                _local(user.created_at),
                _local(user.unreachable_at),
                yes if user.id in admins else None,
                count[user.id],
                render.plain(t(render.VERDICTS[verdict][1])) if verdict else None,
            ]
        )


def _sheet_name(text: str) -> str:
    return "".join(c for c in text if c not in "[]:*?/\\")[:SHEET_NAME_LIMIT]


async def workbook(
    session: AsyncSession, form: Form, t: Translator, admin_ids: frozenset[int]
) -> tuple[bytes, int, int]:
    """(the .xlsx file, applications, users)."""
    applications = await statistics.programme_applications(session, form.id)
    answers = await statistics.programme_answers(session, form.id)
    flags = await statistics.programme_flags(session, form.id)
    users = await statistics.all_users(session)
    admins = set(admin_ids) | {a.user_id for a, _ in await queries.stored_admins(session)}
    import xlsxwriter  # here: only an export needs it, not every start (2 MB)

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, BOOK_OPTIONS)
    formats = add_formats(book)
    first = Sheet(book, _sheet_name(t("export.sheet.applications")), formats)
    _applications_sheet(first, t, form, applications, answers, flags)
    second = Sheet(book, _sheet_name(t("export.sheet.users")), formats)
    _users_sheet(second, t, users, applications, admins)
    for sheet in (first, second):
        sheet.finish()
    book.close()
    return out.getvalue(), len(applications), len(users)


async def export_document(
    session: AsyncSession, form: Form, t: Translator, admin_ids: frozenset[int]
) -> Document:
    """The workbook as a named file with its caption: /export, and the office pages."""
    content, applications, users = await workbook(session, form, t, admin_ids)
    stamp = utcnow().astimezone(LOCAL_TIME).strftime("%Y%m%d-%H%M")
    filename = t("export.filename", stamp=stamp) + ".xlsx"
    caption = t("export.caption", applications=t.number(applications), users=t.number(users))
    return Document(filename, content, caption)


async def command(turn: Turn) -> list[Reply]:
    document = await export_document(turn.session, turn.form, turn.t, turn.context.admin_ids)
    return [Reply(document=document)]


COMMAND = Command("export", N_("command.export"), command, admin=True)
