"""/start, /help, /cancel, and what is said to anything the bot does not know."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from handlers import draft, interview, render
from handlers.context import Context, Turn
from handlers.types import Command, Keyboard, RecipientGone, Reply
from locales import N_, translator
from models import admin_queries as aq

log = logging.getLogger(__name__)

COMMANDS = (
    Command("start", N_("command.start")),
    Command("apply", N_("command.apply")),
    Command("draft", N_("command.draft")),
    Command("survey", N_("command.survey")),
    Command("language", N_("command.language")),
    Command("help", N_("command.help")),
    Command("cancel", N_("command.cancel")),
    Command("mydata", N_("command.mydata")),
    Command("delete", N_("command.delete")),
    Command("broadcast", N_("command.broadcast"), admin=True),
    Command("stats", N_("command.stats"), admin=True),
    Command("export", N_("command.export"), admin=True),
    Command("event", N_("command.event"), admin=True),
    Command("admins", N_("command.admins"), admin=True),
)


# Telegram localises command menus by two-letter language only: "zh" cannot tell
# Simplified from Traditional, so zh_HK users see the default menu ("").
MENU_LANGUAGES: dict[str, str | None] = {"": None, "zh": "zh_CN", "en": "en"}


@dataclass(frozen=True)
class CommandMenu:
    language_code: str  # Telegram's; "" = every other language
    public: list[tuple[str, str]]  # (command, description)
    admin: list[tuple[str, str]]  # the public commands and the admin ones


def command_menus(default_locale: str) -> list[CommandMenu]:
    """The command menus a transport registers with the platform, in every language."""
    menus = []
    for language_code, locale in MENU_LANGUAGES.items():
        t = translator(locale or default_locale)
        described = [(c, (c.name, t(c.description_key))) for c in COMMANDS]
        menus.append(
            CommandMenu(
                language_code,
                public=[entry for c, entry in described if not c.admin],
                admin=[entry for _, entry in described],
            )
        )
    return menus


async def register_menus(context: Context) -> None:
    """At start: everyone's command menu, and every admin's (of the settings or stored)."""
    assert context.sender is not None
    for menu in command_menus(context.default_locale):
        await context.sender.set_commands(None, menu.language_code, menu.public)
    async with context.sessions() as session:
        stored = {admin.user_id for admin, _ in await aq.stored_admins(session)}
    for user_id in sorted(context.admin_ids | stored):
        await admin_menu(context, user_id, True)


async def admin_menu(context: Context, user_id: int, admin: bool) -> None:
    """Show (or take back) the admin commands in this admin's command menu."""
    if context.sender is None:  # the console has no command menu
        return
    try:
        for menu in command_menus(context.default_locale):
            commands = menu.admin if admin else []
            await context.sender.set_commands(user_id, menu.language_code, commands)
    except RecipientGone as e:  # no chat with the bot yet: they get it at first contact
        log.info("admin %s: no command menu yet (%s)", user_id, e)


def menu_keyboard(turn: Turn) -> Keyboard:
    t = turn.t
    return (
        (render.button(t("button.apply"), "menu:apply"),),
        (
            render.button(t("button.help"), "menu:help"),
            render.button(t("button.language"), "menu:language"),
        ),
    )


def start(turn: Turn, first_contact: bool, *, with_menu: bool = True) -> list[Reply]:
    t = turn.t
    text = t("start.welcome", programme=t(turn.form.title))
    if first_contact:
        text += "\n\n" + privacy(turn).text
    return [Reply(text, menu_keyboard(turn) if with_menu else ())]


def privacy(turn: Turn) -> Reply:
    """The privacy notice (alone: at first contact through an event's survey link). In a
    browser there is no Telegram account to speak of: the visitor is a random number; in
    the terminal, the person at this computer."""
    if turn.event.channel == "web":
        return Reply(turn.t("privacy.notice_web"))
    if turn.event.channel == "console":
        return Reply(turn.t("privacy.notice_console"))
    return Reply(turn.t("privacy.notice"))


def help_(turn: Turn, *, admin: bool) -> list[Reply]:
    t = turn.t
    commands = [c for c in COMMANDS if not c.admin or admin]
    lines = [
        render.bold(t("help.title")),
        *(f"/{c.name} — {t(c.description_key)}" for c in commands),
    ]
    lines += ["", t("help.answering")]
    return [Reply("\n".join(lines))]


def cancel(turn: Turn) -> list[Reply]:
    conversation = turn.conversation
    if conversation.flow is None:
        return [Reply(turn.t("cancel.nothing"), menu_keyboard(turn))]
    flow = conversation.flow
    conversation.flow = None
    conversation.pending = None
    if flow == draft.FLOW:  # /draft writes the draft: the way back is the details button
        again = (
            (render.button(turn.t("button.continue_details"), "draft:details"),),
            (render.button(turn.t("button.draft_now"), "draft:now"),),
        )
        return [Reply(turn.t("cancel.draft_details"), again)]
    key = N_("cancel.interview") if flow == interview.FLOW else N_("cancel.done")  # /apply resumes
    return [Reply(turn.t(key), menu_keyboard(turn))]


def unknown(turn: Turn) -> list[Reply]:
    return [Reply(turn.t("error.unknown_command"))]

