"""Replies as JSON, to be stored with the update they answer until they are sent (the
outbox in ``models.tables.HandledUpdate``) and sent again, exactly as they were, after a
crash. Every field of ``Reply`` is kept; a file's bytes as base64."""

from __future__ import annotations

import base64
from typing import Any

from handlers.types import Button, Document, Reply


def encode(replies: list[Reply]) -> list[dict[str, Any]]:
    return [
        {
            "text": r.text,
            "buttons": [[[b.text, b.data] for b in row] for row in r.buttons],
            "document": _file(r.document),
            "photo": _file(r.photo),
            "edit": r.edit,
            "accepts_text": r.accepts_text,
        }
        for r in replies
    ]


def decode(stored: list[dict[str, Any]]) -> list[Reply]:
    return [
        Reply(
            text=r["text"],
            buttons=tuple(tuple(Button(text, data) for text, data in row) for row in r["buttons"]),
            document=_unfile(r["document"]),
            photo=_unfile(r["photo"]),
            edit=r["edit"],
            accepts_text=r["accepts_text"],
        )
        for r in stored
    ]


def _file(document: Document | None) -> dict[str, Any] | None:
    if document is None:
        return None
    return {
        "filename": document.filename,
        "content": base64.b64encode(document.content).decode("ascii"),
        "caption": document.caption,
        "file_id": document.file_id,
    }


def _unfile(stored: dict[str, Any] | None) -> Document | None:
    if stored is None:
        return None
    return Document(
        filename=stored["filename"],
        content=base64.b64decode(stored["content"]),
        caption=stored["caption"],
        file_id=stored["file_id"],
    )
