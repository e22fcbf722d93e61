"""A user's channel is what their first contact said, kept on the user row: the privacy
notice, broadcasts and the office pages follow it, never the shape of their id."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.kernel.types import Event, Reply
from locales import translator
from models.db import alembic_config, create_engine, migrate
from models.tables import Channel, User
from testkit.chat import Chat

ZH = translator("zh_CN")
ADMIN = 999  # the conftest router's admin


class ChannelChat(Chat):
    """A person on ``channel``, with whatever id their transport gave them."""

    def __init__(self, router: Router, user_id: int, channel: Channel) -> None:
        super().__init__(router, user_id)
        self.channel = channel

    async def _replies(self, event: Event) -> list[Reply]:
        return await self.router.handle(dataclasses.replace(event, channel=self.channel))


async def test_first_contact_records_the_channel_and_its_privacy_notice(router: Router) -> None:
    web = ChannelChat(router, 4242, Channel.WEB)  # an id Telegram could have given
    await web.send("/start")
    assert plain(ZH("privacy.notice_web")) in web.text
    telegram = ChannelChat(router, 4343, Channel.TELEGRAM)
    await telegram.send("/start")
    assert plain(ZH("privacy.notice")) in telegram.text
    async with router.context.sessions() as session:
        assert (await session.get(User, 4242)).channel == Channel.WEB  # type: ignore[union-attr]
        assert (await session.get(User, 4343)).channel == Channel.TELEGRAM  # type: ignore[union-attr]


async def test_a_broadcast_counts_a_web_visitor_by_their_channel_not_their_id(
    router: Router,
) -> None:
    router.context.routes = frozenset({Channel.TELEGRAM, Channel.WEB})
    await ChannelChat(router, 4242, Channel.WEB).send("/start")
    await ChannelChat(router, 4343, Channel.TELEGRAM).send("/start")
    admin = Chat(router, ADMIN)
    await admin.send("/broadcast")
    await admin.send("培训改期")
    await admin.press(f"{ZH('broadcast.audience.all')}（3）")  # the admin, both of them
    assert "收件人数：3 人" in admin.text
    assert plain(ZH("broadcast.preview_route.web", count=1)) in admin.text
    assert "Telegram：2 人" in admin.text  # the admin and the Telegram user


async def test_the_migration_reads_the_channel_of_existing_users_once(tmp_path: Path) -> None:
    """Rows made before the column: web visitors had ids at or below -2**53, the console's
    person 0, Telegram users the rest."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()

    def upgrade_to_0009(connection: sa.Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009_web_notices")

    insert = "INSERT INTO user (id, chat_id, locale, created_at) VALUES (:i, :i, 'zh_CN', :at)"
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_to_0009)
        for user_id in (-(2**53) - 5, 0, 123456789):
            await connection.execute(sa.text(insert), {"i": user_id, "at": "2024-07-01"})
    await migrate(engine)
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT id, channel FROM user ORDER BY id"))).all()
    await engine.dispose()
    assert [tuple(r) for r in rows] == [
        (-(2**53) - 5, "web"),
        (0, "console"),
        (123456789, "telegram"),
    ]
