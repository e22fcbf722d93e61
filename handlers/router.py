"""Where each event goes. The one entry point for every transport: ``Router.handle``."""

from __future__ import annotations

import asyncio
import logging
from weakref import WeakValueDictionary

from handlers import (
    account,
    admins,
    broadcast,
    draft,
    events,
    export,
    interview,
    menu,
    stats,
    survey,
)
from handlers import questionnaire as qs
from handlers.context import Context, Turn
from handlers.types import Event, Reply
from locales import guess_locale, translator
from models import queries
from models.tables import utcnow

log = logging.getLogger(__name__)


FLOWS: dict[str, qs.Flow] = {
    interview.FLOW: interview,
    draft.FLOW: draft,
    survey.FLOW: survey,
    events.FLOW: events,
}


def _seen(last: int | None, update_id: int | None) -> bool:
    return last is not None and update_id is not None and update_id <= last


class Router:
    def __init__(self, context: Context) -> None:
        self.context = context
        # One event at a time per user: a double tap must not answer the same question
        # twice. Weak values: a lock lives only while someone holds or awaits it.
        self._locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()

    async def handle(self, event: Event) -> list[Reply]:
        lock = self._locks.get(event.user_id)
        if lock is None:
            lock = self._locks[event.user_id] = asyncio.Lock()
        async with lock:
            try:
                return await self._handle(event)
            except Exception:
                # Nothing of this event was committed; say so rather than go silent.
                log.exception("failed to handle %s", event)
                locale = guess_locale(event.language_code, self.context.default_locale)
                t = translator(locale)
                return [Reply(t("error.internal"))]

    async def _handle(self, event: Event) -> list[Reply]:
        async with self.context.sessions() as session:
            user = await queries.get_user(session, event.user_id)
            first_contact = user is None
            if user is None:
                locale = guess_locale(event.language_code, self.context.default_locale)
                user = await queries.add_user(
                    session, event.user_id, event.chat_id, locale, event.display_name
                )
            conversation = await queries.conversation(session, user.id)
            if _seen(conversation.last_update_id, event.update_id):
                return []
            conversation.last_update_id = event.update_id or conversation.last_update_id
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
        return [] if flow is None else [await qs.resume(turn, flow.questionnaire(turn))]

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
