"""A GET stores nothing: ten thousand visits without a cookie — the chat page, an event's
survey page (a card's link too), the office, files — leave every table as it was. A
visitor's rows are made by their first POST (issue 25.3: junk visitors filled the disk)."""

from __future__ import annotations

import asyncio
from datetime import date

import aiohttp
from sqlalchemy import func, select
from sqlmodel import SQLModel
from yarl import URL

from bot.pages.identity import Buckets
from forms.definition import Form
from handlers.kernel.router import Router
from handlers.training import events
from tests.chat.test_web import serving

VISITS = 10_000
AT_ONCE = 50
FAST = Buckets(rate=1_000_000, burst=1_000_000)  # the limits are not what is tested here


async def row_counts(router: Router) -> dict[str, int]:
    async with router.context.sessions() as session:
        connection = await session.connection()  # plain Core counts, no ORM objects
        return {
            name: int(
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            )
            for name, table in SQLModel.metadata.tables.items()
        }


async def test_ten_thousand_cookieless_gets_store_nothing(router: Router, form: Form) -> None:
    async with router.context.sessions() as session:
        event = await events.create_event(
            session, form, title="专利导航培训", event_date=date(2024, 10, 8), place="南沙",
            closes_at=None, created_by=999,
        )  # fmt: skip
        (card,) = await events.issue_cards(session, event, ["李明"])
        await session.commit()
    paths = ["/", f"/s/{event.code}", f"/s/{event.code}-{card.code}", "/s/unknown", "/office/",
             "/static/style.css", "/favicon.ico", "/c/nothing"]  # fmt: skip
    before = await row_counts(router)
    async with (
        serving(router, per_visitor=FAST, per_address=FAST) as site,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,  # never a cookie
    ):

        async def visit(n: int) -> int:
            async with http.get(URL(site).join(URL(paths[n % len(paths)]))) as response:
                await response.read()
                if response.content_type == "text/html":  # answers and tokens: never cached
                    assert "no-store" in response.headers["Cache-Control"], response.url
                return response.status

        statuses = []
        for start in range(0, VISITS, AT_ONCE):
            statuses += await asyncio.gather(*(visit(n) for n in range(start, start + AT_ONCE)))
    assert max(statuses) < 500
    assert await row_counts(router) == before
