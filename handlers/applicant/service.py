"""The applicants' use cases as the terminal and the office pages call them: an
application's draft (申报书) as a Word document."""

from handlers.applicant.draft import draft_for_application

__all__ = ["draft_for_application"]
