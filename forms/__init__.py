"""The questionnaire engine and the form definitions it runs (interview, survey)."""
