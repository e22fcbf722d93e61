"""What the running bot clears away (models/purge.py): spent links, ended sessions and web
visitors who gave nothing once the retention period has passed — and nothing that counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import col, select
from yarl import URL

from bot.pages.identity import Buckets
from handlers.kernel.router import Router
from models import officers
from models.purge import purge
from models.tables import OfficerLink, OutboxEntry, User, WebHandoff, utcnow
from testkit.web import WebVisitor
from tests.chat.test_web import serving

FAST = Buckets(rate=1000, burst=1000)
RETENTION = timedelta(days=30)


async def count(router: Router, table: type) -> int:
    async with router.context.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def test_idle_visitors_and_spent_links_go_what_counts_stays(router: Router) -> None:
    async with serving(router, per_visitor=FAST, per_address=FAST) as site:
        idle, applicant, subscriber = (WebVisitor(URL(site)) for _ in range(3))
        try:
            for visitor in (idle, applicant, subscriber):
                await visitor.get("/")
                await visitor.send("/help")  # a POST: a visitor of the database
            await applicant.send("/apply")
            await applicant.send("广州南沙示例科技有限公司")  # one answer
            await subscriber.send("/email")
            await subscriber.send("li@example.cn")
            await idle.send("/apply")  # an interview opened and left empty: nothing given
            await idle.post("/handoff", {"csrf": idle.page.hidden["csrf"]})
        finally:
            for visitor in (idle, applicant, subscriber):
                await visitor.close()
    async with router.context.sessions() as session:
        officer = await officers.add(session, "王芳", "terminal")
        assert officer is not None
        await officers.new_link(session, officer)
        await session.exec(update(OfficerLink).values(expires_at=utcnow() - timedelta(hours=1)))
        await session.commit()
    users_before = await count(router, User)
    assert await count(router, WebHandoff) == 1

    async with router.context.sessions() as session:  # nobody is old enough yet
        nothing = await purge(session, utcnow(), RETENTION)
        await session.commit()
    assert nothing.visitors == 0 and nothing.links == 1  # the expired sign-in link

    async with router.context.sessions() as session:  # forty days on
        await session.exec(update(User).values(created_at=utcnow() - timedelta(days=40)))
        await session.commit()
    async with router.context.sessions() as session:
        done = await purge(session, utcnow() + timedelta(minutes=20), RETENTION)
        await session.commit()
    assert done.visitors == 1 and done.links == 1  # the idle visitor; their handoff link
    assert await count(router, User) == users_before - 1
    async with router.context.sessions() as session:
        emails = (await session.exec(select(User.email).where(col(User.email).is_not(None)))).all()
        streams = (await session.exec(select(OutboxEntry.stream))).all()
    assert emails == ["li@example.cn"]
    assert len(streams) == 2  # the two who gave something keep their page
