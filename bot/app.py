"""Wiring: settings → database, programme, router."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from forms.definition import programme
from handlers.context import Context
from handlers.router import Router
from models.db import connect


async def build(settings: Settings) -> tuple[Router, AsyncEngine]:
    engine, sessions = await connect(settings.database_url)
    context = Context(
        sessions=sessions,
        form=programme(settings.programme),
        admin_ids=settings.admin_ids,
        default_locale=settings.default_locale,
    )
    return Router(context), engine
