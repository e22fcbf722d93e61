"""Training events: their setup, the attendees' survey, and its report."""
