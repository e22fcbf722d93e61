"""The command menus a transport registers with the platform: everyone's, and each
admin's with the admin commands, in every language Telegram tells apart."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.kernel.context import Context, Listed
from handlers.kernel.types import RecipientGone
from locales import translator
from models import queries

log = logging.getLogger("handlers.command_menu")  # the name operators' log filters know

# Telegram localises command menus by two-letter language only: "zh" cannot tell
# Simplified from Traditional, so zh_HK users see the default menu ("").
MENU_LANGUAGES: dict[str, str | None] = {"": None, "zh": "zh_CN", "en": "en"}


@dataclass(frozen=True)
class CommandMenu:
    language_code: str  # Telegram's; "" = every other language
    public: list[tuple[str, str]]  # (command, description)
    admin: list[tuple[str, str]]  # the public commands and the admin ones


def command_menus(commands: Sequence[Listed], default_locale: str) -> list[CommandMenu]:
    menus = []
    for language_code, locale in MENU_LANGUAGES.items():
        t = translator(locale or default_locale)
        described = [(c, (c.name, t(c.description_key))) for c in commands]
        menus.append(
            CommandMenu(
                language_code,
                public=[entry for c, entry in described if not c.admin],
                admin=[entry for _, entry in described],
            )
        )
    return menus


async def register_menus(context: Context, commands: Sequence[Listed]) -> None:
    """At start: everyone's command menu, and every admin's (of the settings or stored)."""
    if context.sender is None:  # the console has no command menu
        return
    for menu in command_menus(commands, context.default_locale):
        await context.sender.set_commands(None, menu.language_code, menu.public)
    async with context.sessions() as session:
        stored = {admin.user_id for admin, _ in await queries.stored_admins(session)}
    for user_id in sorted(context.admin_ids | stored):
        await admin_menu(context, commands, user_id, True)


async def admin_menu(
    context: Context, commands: Sequence[Listed], user_id: int, admin: bool
) -> None:
    """Show (or take back) the admin commands in this admin's command menu."""
    if context.sender is None:  # the console has no command menu
        return
    try:
        for menu in command_menus(commands, context.default_locale):
            listed = menu.admin if admin else []
            await context.sender.set_commands(user_id, menu.language_code, listed)
    except RecipientGone as e:  # no chat with the bot yet: they get it at first contact
        log.info("admin %s: no command menu yet (%s)", user_id, e)
