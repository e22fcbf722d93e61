"""Who writes: the user and their conversation, made at their first event, and what every
event notes of them (they are reachable again; they have seen the privacy notice)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.kernel.command_menu import admin_menu
from handlers.kernel.commands import Command
from handlers.kernel.context import Context, Turn
from handlers.kernel.types import Event
from locales import guess_locale, translator
from models import queries
from models.tables import utcnow


async def begin(
    context: Context, session: AsyncSession, event: Event, commands: Sequence[Command]
) -> Turn:
    """The turn of a private chat's event: its user (made now if new) and conversation."""
    # ``_application``: held, so that the session keeps it for the handlers.
    found = await queries.user_and_conversation(session, event.user_id)
    user, conversation, _application = found or (None, None, None)
    if user is None:  # a new user, or rarely, one without a conversation
        user = await queries.get_user(session, event.user_id)
    first_contact = user is None
    if user is None:
        locale = guess_locale(event.language_code, context.default_locale)
        user = await queries.add_user(
            session, event.user_id, event.chat_id, locale, event.display_name, event.channel
        )
    if conversation is None:
        conversation = await queries.conversation(session, user.id)
    if user.unreachable_at is not None:  # they write to us: broadcasts reach them again
        user.unreachable_at = None
    t = translator(user.locale)
    return Turn(context, event, session, user, conversation, t, first_contact, commands=commands)


async def end(turn: Turn) -> None:
    """After the event was dispatched, before the commit."""
    user, conversation = turn.user, turn.conversation
    if turn.first_contact or user.privacy_seen_at is None:
        user.privacy_seen_at = utcnow()
    # When the conversation last changed: an event that changes nothing in it (free text
    # outside any questionnaire) writes nothing to it.
    if turn.session.is_modified(conversation):
        conversation.updated_at = utcnow()
    if turn.first_contact and await turn.is_admin():
        # An admin added before they ever wrote to the bot: their chat exists now.
        menu_shown = partial(admin_menu, turn.context, turn.commands, user.id, True)
        turn.after_commit(menu_shown)
