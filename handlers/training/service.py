"""The training events' use cases as the terminal, the office pages and the other features
call them: create an event, open or close its survey, hand out its links, QR code and
cards, and read its report (with its figures and the survey's form)."""

from handlers.training.events import (
    SurveyLinks,
    attendee_names,
    cards_xlsx,
    create_event,
    event_fields,
    issue_cards,
    links_text,
    list_lines,
    load_report,
    qr_png,
    set_open,
    status_text,
    survey_links,
)
from handlers.training.report import Report, chart_png, report_text, report_xlsx, scales
from handlers.training.survey import landing, survey_form

__all__ = [
    "Report",
    "SurveyLinks",
    "attendee_names",
    "cards_xlsx",
    "chart_png",
    "create_event",
    "event_fields",
    "issue_cards",
    "landing",
    "links_text",
    "list_lines",
    "load_report",
    "qr_png",
    "report_text",
    "report_xlsx",
    "scales",
    "set_open",
    "status_text",
    "survey_form",
    "survey_links",
]
