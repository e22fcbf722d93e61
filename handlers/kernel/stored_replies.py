"""Replies as JSON, the one way they are stored: in the outbox (``models.tables.
OutboxEntry``) until they are sent, and sent again exactly as they were after a crash; on
a web page, shown from there. Every field of ``Reply`` is kept; a file's bytes as base64."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, TypeAdapter

from handlers.kernel.types import Reply

_REPLIES = TypeAdapter(
    list[Reply], config=ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")
)


def encode(replies: list[Reply]) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = _REPLIES.dump_python(replies, mode="json")
    return stored


def decode(stored: list[dict[str, Any]]) -> list[Reply]:
    return _REPLIES.validate_python(stored)
