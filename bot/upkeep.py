"""Upkeep while serving: every hour, what nobody needs any more is cleared away
(models/purge.py): spent links, ended sessions, and web visitors who gave nothing once
VISITOR_RETENTION_DAYS have passed. Several processes may run it on one database: each
pass deletes what is there, so a second one finds less to do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models.purge import purge
from models.tables import utcnow

log = logging.getLogger(__name__)

EVERY = timedelta(hours=1)


async def _passes(
    sessions: async_sessionmaker[AsyncSession], retention: timedelta, every: timedelta
) -> None:
    while True:
        try:
            async with sessions() as session:
                done = await purge(session, utcnow(), retention)
                await session.commit()
            if done.links or done.sessions or done.visitors:
                log.info("purged %s links, %s sessions, %s idle visitors", *done.__dict__.values())
        except Exception:  # a busy database now and then must not end the upkeep
            log.warning("upkeep failed; trying again later", exc_info=True)
        await asyncio.sleep(every.total_seconds())


@asynccontextmanager
async def upkeep(
    sessions: async_sessionmaker[AsyncSession], retention: timedelta, every: timedelta = EVERY
) -> AsyncIterator[None]:
    """Purge at once and then every ``every`` while the block runs."""
    task = asyncio.create_task(_passes(sessions, retention, every), name="upkeep")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
