"""The serving process's upkeep (bot/upkeep.py) purges at once and then on its schedule:
an idle web visitor past the retention period is gone without anyone asking."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from bot.upkeep import upkeep
from handlers.kernel.router import Router
from models.tables import Channel, User, utcnow


async def test_the_upkeep_erases_an_idle_visitor_past_the_retention(router: Router) -> None:
    async with router.context.sessions() as session:
        session.add(
            User(id=-(2**53) - 1, chat_id=-(2**53) - 1, channel=Channel.WEB, locale="zh_CN")
        )
        session.add(
            User(id=-(2**53) - 2, chat_id=-(2**53) - 2, channel=Channel.WEB, locale="zh_CN")
        )
        await session.commit()
        old = utcnow() - timedelta(days=31)
        await session.exec(update(User).where(User.id == -(2**53) - 1).values(created_at=old))
        await session.commit()
    async with upkeep(router.context.sessions, timedelta(days=30), every=timedelta(seconds=0.05)):
        for _ in range(100):
            async with router.context.sessions() as session:
                left = (await session.exec(select(User.id))).all()
            if len(left) == 1:
                break
            await asyncio.sleep(0.05)
    assert left == [-(2**53) - 2]  # the recent one stays until its time
