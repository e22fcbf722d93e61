"""The transports' side of traffic that is not a reply (broadcasts and their progress): a
sent message's id and file id, editing it, sending a file by its id; and what an admin
writes — formatting, a photo, a file — reaching the handlers. On every framework."""

from __future__ import annotations

import asyncio
import importlib
import io
import time

import pytest
import segno

from bot.app import build
from handlers.kernel.router import Send
from handlers.kernel.types import Document, Event, Reply
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import FRAMEWORKS, TOKEN, bot_settings
from tests.contract.test_e2e_telegram import open_sender


def png() -> bytes:
    out = io.BytesIO()
    segno.make("patentbot").save(out, kind="png", scale=4)
    return out.getvalue()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_sent_ids_edits_and_files_by_id(framework: str, database_url: str) -> None:
    async with FakeBotAPI(token=TOKEN) as server:
        reader = server.user(3001)
        async with open_sender(framework, bot_settings(server, database_url, framework)) as sender:
            sent = await sender.send(reader.chat_id, Reply("<b>进度</b> 10%"))
            first = await reader.next_message()
            assert (sent.message_id, sent.file_id) == (first.message_id, None)
            await sender.edit(reader.chat_id, sent.message_id, Reply("<b>进度</b> 50%"))
            edited = await reader.next_message()
            assert edited.edited and edited.message_id == sent.message_id
            assert edited.text == "进度 50%"
            await sender.edit(reader.chat_id, sent.message_id, Reply("<b>进度</b> 50%"))
            await reader.assert_no_message()  # unchanged: no error, nothing new

            photo = await sender.send(reader.chat_id, Reply(photo=Document("a.png", png(), "图")))
            uploaded = await reader.next_message()
            assert uploaded.photo is not None and photo.file_id == uploaded.photo.file_id
            again = Reply(photo=Document("", b"", "<i>再发</i>", file_id=photo.file_id))
            await sender.send(reader.chat_id, again)
            resent = await reader.next_message()
            assert resent.photo is not None and resent.photo.file_id == photo.file_id
            assert resent.caption == "再发"
            assert isinstance(server.calls_to("sendPhoto")[-1]["photo"], str)  # no upload

            doc = await sender.send(reader.chat_id, Reply(document=Document("n.txt", b"hi")))
            assert doc.file_id == (await reader.next_message()).document.file_id  # type: ignore[union-attr]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_formatting_photos_and_files_reach_the_handlers(
    framework: str, database_url: str
) -> None:
    connect = importlib.import_module(f"bot.transports.telegram.with_{framework}").connect
    async with FakeBotAPI(token=TOKEN) as server:
        settings = bot_settings(server, database_url, framework)
        bot = connect(settings)
        link = await bot.__aenter__()
        router, engine = await build(settings, link.platform)
        seen: list[Event] = []
        handle = router.handle

        async def recording(event: Event, send: Send | None = None) -> list[Reply]:
            seen.append(event)
            return await handle(event, send)

        router.handle = recording  # type: ignore[method-assign]
        task = asyncio.create_task(link.serve(router, False))
        try:
            user = server.user(3002, language_code="zh-hans")
            server.push_update(
                {
                    "message": {
                        "message_id": 900,
                        "from": user.user_json(),
                        "chat": user.chat_json(),
                        "date": int(time.time()),
                        "text": "截止 & 详情",
                        "entities": [
                            {"type": "bold", "offset": 0, "length": 2},
                            {"type": "text_link", "offset": 5, "length": 2, "url": "https://x.cn/"},
                        ],
                    }
                }
            )
            await user.send_photo(png(), caption="海报")
            await user.send_document(b"%PDF", "通知.pdf", caption="附件")
            for _ in range(200):
                if len(seen) == 3:
                    break
                await asyncio.sleep(0.05)
            text, photo, document = seen
            assert text.text == "截止 & 详情" and text.attachment is None
            assert text.html == '<b>截止</b> &amp; <a href="https://x.cn/">详情</a>'
            assert (photo.text, photo.html, photo.command) == ("海报", "海报", None)
            assert photo.attachment is not None and photo.attachment.kind == "photo"
            assert document.attachment is not None
            assert (document.attachment.kind, document.attachment.filename) == (
                "document",
                "通知.pdf",
            )
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await bot.__aexit__(None, None, None)
            await engine.dispose()
