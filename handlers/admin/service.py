"""The admins' use cases as the chat, the terminal and the office pages call them: queue a
broadcast (its message and audience checked first) and pause, resume or stop one; the
statistics; the export workbook."""

from handlers.admin.broadcast_queue import (
    MOVES,
    Author,
    Message,
    Reason,
    Refused,
    check_message,
    move,
    parse_audience,
    queue_broadcast,
)
from handlers.admin.export import CHANNEL_NAMES, export_document
from handlers.admin.stats import stats_text

__all__ = [
    "CHANNEL_NAMES",
    "MOVES",
    "Author",
    "Message",
    "Reason",
    "Refused",
    "check_message",
    "export_document",
    "move",
    "parse_audience",
    "queue_broadcast",
    "stats_text",
]
