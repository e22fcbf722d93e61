"""Groups and channels: the bot works in private chats only.

An admin's /export in a group would hand every applicant's data to everyone in it, and
members could press each other's buttons. So in any chat that is not private the bot only
says, once in a while per chat, where it does work — a link to its private chat — and
nothing else: no command, button or answer is looked at, and nobody is recorded as a user.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.kernel.context import Context
from handlers.kernel.types import Event, Reply
from locales import guess_locale, translator
from models.tables import utcnow
from models.updates import tell_group

PRIVATE = "private"
# Told once, then again only after this long: a group that keeps the bot for a year hears
# it a dozen times, not on every message.
TELL_AGAIN_AFTER = timedelta(days=30)


def private_link(bot_username: str | None) -> str:
    return f"https://t.me/{bot_username}" if bot_username else ""


async def refuse(context: Context, session: AsyncSession, event: Event) -> list[Reply]:
    """The notice, in the language of whoever wrote (a group has none of its own), or
    nothing when this chat was told recently."""
    now = utcnow()
    if not await tell_group(session, event.chat_id, now, now - TELL_AGAIN_AFTER):
        return []
    t = translator(guess_locale(event.language_code, context.default_locale))
    return [Reply(t("group.private_only", link=private_link(context.bot_username)))]
