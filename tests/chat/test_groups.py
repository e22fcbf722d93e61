"""In a group the bot looks at nothing and says where it works: once, then again only
after a month (through the router; the contract suite does it over Telegram)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from handlers.kernel.groups import TELL_AGAIN_AFTER
from handlers.kernel.router import Router
from handlers.kernel.types import Event, Reply
from locales import translator
from models.tables import GroupNotice, User, utcnow

GROUP = -100777


async def in_group(
    router: Router, user_id: int, text: str, kind: str = "supergroup"
) -> list[Reply]:
    event = Event.message(user_id, GROUP, text, language_code="zh-hant", chat_type=kind)
    return await router.handle(event)


async def test_a_group_is_told_once_a_month_and_nobody_is_recorded(router: Router) -> None:
    router.context.bot_username = "patentbot_test"
    notice = translator("zh_HK")("group.private_only", link="https://t.me/patentbot_test")
    assert [r.text for r in await in_group(router, 999, "/export")] == [notice]
    for text in ("/stats", "/mydata", "/apply", "甲公司"):
        assert await in_group(router, 999, text) == []
    button = Event(5, GROUP, callback_data="menu:mydata", chat_type="group")
    assert await router.handle(button) == []
    async with router.context.sessions() as session:
        assert (await session.exec(select(User))).all() == []
        later = utcnow() - TELL_AGAIN_AFTER - timedelta(days=1)  # a month and a day pass
        await session.exec(update(GroupNotice).values(told_at=later))
        await session.commit()
    assert [r.text for r in await in_group(router, 5, "/start")] == [notice]
    assert await in_group(router, 5, "/start") == []
