"""Running a form in the chat: asking, reading answers, its buttons."""
