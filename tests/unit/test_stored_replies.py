"""Replies stored until sent (for the update Telegram sends again after a crash) come
back exactly as they were: every field, a file's bytes included."""

from __future__ import annotations

import dataclasses
import json

from handlers.kernel import stored_replies
from handlers.kernel.types import Button, Document, Reply

EVERYTHING = Reply(
    text="<b>问题</b> & 选项",
    buttons=((Button("是", "a:x:1"), Button("否", "a:x:0")), (Button("返回", "back"),)),
    document=Document("草稿 v2.docx", bytes(range(256)) * 3, caption="草稿", file_id="BQACdoc"),
    photo=Document("qr.png", b"\x89PNG\r\n\x1a\n\x00", caption="", file_id="AgACfile"),
    edit=True,
    accepts_text=True,
)


def test_every_field_of_a_reply_is_set_here() -> None:
    """A field added to Reply or Document must be stored too: this sample covers all."""
    samples: list[tuple[object, object]] = [
        (EVERYTHING, Reply()),
        (EVERYTHING.document, Document("", b"")),
    ]
    for sample, default in samples:
        for field in dataclasses.fields(sample):  # type: ignore[arg-type]
            assert getattr(sample, field.name) != getattr(default, field.name), field.name


def test_replies_survive_the_database_round_trip() -> None:
    replies = [EVERYTHING, Reply("纯文本"), Reply(document=Document("a.txt", b""))]
    stored = json.loads(json.dumps(stored_replies.encode(replies)))  # as a JSON column does
    assert stored_replies.decode(stored) == replies
    assert stored_replies.decode(stored_replies.encode([])) == []
