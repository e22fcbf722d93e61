"""The training events' use cases as the other features call them: an event's report and
its figures, and the survey's form (an applicant's /mydata shows their answers with it)."""

from handlers.training.events import load_report
from handlers.training.report import Report, scales
from handlers.training.survey import survey_form

__all__ = ["Report", "load_report", "scales", "survey_form"]
