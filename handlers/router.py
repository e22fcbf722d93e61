"""Where each event goes. The one entry point for every transport: ``Router.handle``."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from weakref import WeakValueDictionary

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import (
    account,
    admins,
    broadcast,
    draft,
    events,
    export,
    groups,
    interview,
    menu,
    stats,
    survey,
)
from handlers import questionnaire as qs
from handlers.context import Context, Turn
from handlers.types import Event, Reply
from locales import guess_locale, translator
from models import queries, updates
from models.tables import Application, utcnow

log = logging.getLogger(__name__)


FLOWS: dict[str, qs.Flow] = {
    interview.FLOW: interview,
    draft.FLOW: draft,
    survey.FLOW: survey,
    events.FLOW: events,
}


# Telegram sends an update again until it is confirmed, within minutes, not days: an id
# handled longer ago than this is forgotten (ids are reused at random after a quiet week).
REMEMBER_UPDATES = timedelta(days=1)
# Forgetting is one DELETE: done with the first update and then every so many, not each.
FORGET_EVERY = 500


class Router:
    def __init__(self, context: Context) -> None:
        self.context = context
        # One event at a time per user: a double tap must not answer the same question
        # twice. Weak values: a lock lives only while someone holds or awaits it.
        # In a group, one lock per group: its notice is decided once, not per member.
        self._locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()
        self._until_forget = 0

    async def handle(self, event: Event) -> list[Reply]:
        key = event.user_id if event.chat_type == groups.PRIVATE else event.chat_id
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            try:
                return await self._handle(event)
            except Exception:
                # Nothing of this event was committed; say so rather than go silent.
                log.exception("failed to handle %s", event)
                if event.chat_type != groups.PRIVATE:
                    return []  # a group hears nothing but where the bot works
                locale = guess_locale(event.language_code, self.context.default_locale)
                t = translator(locale)
                return [Reply(t("error.internal"))]

    async def _first_time(self, session: AsyncSession, update_id: int | None) -> bool:
        """False for an update handled already (Telegram sent it again); recorded in the
        update's own transaction, so one cut short by a crash is handled when it returns."""
        if update_id is None:  # the console: no platform that sends anything twice
            return True
        now = utcnow()
        if self._until_forget <= 0:
            await updates.forget_updates(session, now - REMEMBER_UPDATES)
            self._until_forget = FORGET_EVERY
        self._until_forget -= 1
        bot = self.context.bot_id
        return await updates.first_time(session, bot, update_id, now, now - REMEMBER_UPDATES)

    async def _handle(self, event: Event) -> list[Reply]:
        async with self.context.sessions() as session:
            if not await self._first_time(session, event.update_id):
                return []
            if event.chat_type != groups.PRIVATE:  # nothing of the bot in groups, ever
                replies = await groups.refuse(self.context, session, event)
                await session.commit()
                return replies
            user = await queries.get_user(session, event.user_id)
            first_contact = user is None
            if user is None:
                locale = guess_locale(event.language_code, self.context.default_locale)
                user = await queries.add_user(
                    session, event.user_id, event.chat_id, locale, event.display_name
                )
            conversation = await queries.conversation(session, user.id)
            turn = Turn(self.context, event, session, user, conversation, translator(user.locale))
            if user.unreachable_at is not None:  # they write to us: broadcasts reach them again
                user.unreachable_at = None
            replies = await self._route(turn, first_contact)
            if user in session:
                if first_contact or user.privacy_seen_at is None:
                    user.privacy_seen_at = utcnow()
                conversation.updated_at = utcnow()
                session.add(conversation)
            # An admin added before they ever wrote to the bot: their chat exists now.
            new_admin = first_contact and await turn.is_admin()
            await session.commit()  # state is stored before any reply is sent
        if new_admin:
            await menu.admin_menu(self.context, event.user_id, True)
        return replies

    async def _route(self, turn: Turn, first_contact: bool) -> list[Reply]:
        event = turn.event
        if event.callback_data is not None:
            return await self._button(turn, event.callback_data)
        if event.command is not None:
            return await self._command(turn, event.command, first_contact)
        if first_contact:
            return menu.start(turn, first_contact=True)
        if turn.conversation.flow == broadcast.FLOW and await turn.is_admin():
            return await broadcast.on_message(turn)
        flow = FLOWS.get(turn.conversation.flow or "")
        if flow is not None:
            return await qs.flow_text(turn, flow, event.text or "")
        return [Reply(turn.t("hint.no_flow"), menu.menu_keyboard(turn))]

    async def _resume(self, turn: Turn) -> list[Reply]:
        """The question or review the user was at, if any (after /start, /language)."""
        flow = FLOWS.get(turn.conversation.flow or "")
        if flow is None:
            return []
        found = await flow.current(turn)  # e.g. the call has closed since: say so instead
        if not isinstance(found, Application):
            turn.conversation.flow = None
            return found
        return [await qs.resume(turn, flow.questionnaire(turn))]

    async def _command(self, turn: Turn, command: str, first_contact: bool) -> list[Reply]:
        admin_only = {c.name for c in menu.COMMANDS if c.admin}
        if command in admin_only and not await turn.is_admin():
            return menu.unknown(turn)
        match command:
            case "start":
                first = first_contact or turn.user.privacy_seen_at is None
                if turn.event.args.startswith(survey.DEEP_LINK_PREFIX):  # an event's QR code
                    code = turn.event.args.removeprefix(survey.DEEP_LINK_PREFIX)
                    notice = [menu.privacy(turn)] if first else []
                    return [*notice, *await survey.open_survey(turn, code)]
                resumed = await self._resume(turn)  # back where they were
                return [*menu.start(turn, first, with_menu=not resumed), *resumed]
            case "apply":
                return await interview.start(turn)
            case "help":
                return menu.help_(turn, admin=await turn.is_admin())
            case "cancel":
                return menu.cancel(turn)
            case "language":
                return account.choose_language(turn)
            case "mydata":
                return await account.my_data(turn)
            case "delete":
                return account.ask_delete(turn)
            case "draft":
                return await draft.start(turn)
            case "survey":
                return await survey.open_survey(turn, turn.event.args)
            case "event":
                return await events.command(turn, turn.event.args)
            case "broadcast":
                return await broadcast.command(turn, turn.event.args)
            case "stats":
                return await stats.command(turn)
            case "export":
                return await export.command(turn)
            case "admins":
                return await admins.command(turn, turn.event.args)
        return menu.unknown(turn)

    async def _button(self, turn: Turn, data: str) -> list[Reply]:
        kind, _, value = data.partition(":")
        match kind:
            case "menu":
                return await self._command(turn, value, first_contact=False)
            case "lang":  # then where they were, or the menu, in the new language
                changed = account.set_language(turn, value)
                return [*changed, *(await self._resume(turn) or menu.start(turn, False))]
            case "delete":
                return await account.delete(turn, value == "yes")
            case "result":
                return await interview.show_result(turn)
            case "restart":
                return await interview.restart(turn)
            case "draft":
                return await draft.on_menu(turn, value)
            case "sv" if value.startswith("change:") and value[7:].isdigit():
                return await survey.change(turn, int(value[7:]))
            case "bc" | "ev" if not await turn.is_admin():
                return qs.stale(turn)  # a forged admin button
            case "bc":
                return await broadcast.on_button(turn, value)
            case "ev":
                return await events.on_menu(turn, value)
        flow = FLOWS.get(turn.conversation.flow or "")
        if flow is None:
            return qs.stale(turn)
        return await qs.flow_button(turn, flow, data)
