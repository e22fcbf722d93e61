"""/start, /help, /cancel, and what is said to anything the bot does not know."""

from __future__ import annotations

from forms.definition import Form
from handlers.applicant import draft, interview
from handlers.kernel import flows, pending, render
from handlers.kernel.commands import MENU, Command
from handlers.kernel.context import Turn
from handlers.kernel.types import Keyboard, Reply
from handlers.training import survey
from locales import N_, Translator
from models.tables import Channel


def menu_keyboard(turn: Turn) -> Keyboard:
    return keyboard(turn.t)


def keyboard(t: Translator) -> Keyboard:
    return (
        (render.button(t("button.apply"), MENU.data("apply")),),
        (
            render.button(t("button.help"), MENU.data("help")),
            render.button(t("button.language"), MENU.data("language")),
        ),
    )


async def start_command(turn: Turn) -> list[Reply]:
    """/start: the welcome (and the privacy notice, once), or an event's survey (its QR
    code's deep link); then where the user was."""
    first = turn.first_contact or turn.user.privacy_seen_at is None
    if turn.event.args.startswith(survey.DEEP_LINK_PREFIX):
        code = turn.event.args.removeprefix(survey.DEEP_LINK_PREFIX)
        notice = [privacy(turn)] if first else []
        return [*notice, *await survey.open_survey(turn, code)]
    resumed = await flows.resume(turn)
    return [*start(turn, first, with_menu=not resumed), *resumed]


def start(turn: Turn, first_contact: bool, *, with_menu: bool = True) -> list[Reply]:
    text = turn.t("start.welcome", programme=turn.t(turn.form.title))
    if first_contact:
        text += "\n\n" + privacy(turn).text
    return [Reply(text, menu_keyboard(turn) if with_menu else ())]


def welcome(t: Translator, form: Form) -> Reply:
    """What a browser shows before its visitor has done anything: the welcome, the privacy
    notice and the menu, with nothing stored (a visitor exists from their first answer)."""
    text = t("start.welcome", programme=t(form.title)) + "\n\n" + t(PRIVACY[Channel.WEB])
    return Reply(text, keyboard(t))


# The privacy notice on each channel: in a browser there is no Telegram account to speak
# of (the visitor is a random number); in the terminal, the person at this computer.
PRIVACY = {
    Channel.TELEGRAM: N_("privacy.notice"),
    Channel.WEB: N_("privacy.notice_web"),
    Channel.CONSOLE: N_("privacy.notice_console"),
}


def privacy(turn: Turn) -> Reply:
    """The privacy notice (alone: at first contact through an event's survey link)."""
    return Reply(turn.t(PRIVACY.get(turn.user.channel, PRIVACY[Channel.TELEGRAM])))


async def help_(turn: Turn) -> list[Reply]:
    t = turn.t
    admin = await turn.is_admin()
    commands = [c for c in turn.commands if not c.admin or admin]
    lines = [
        render.bold(t("help.title")),
        *(f"/{c.name} — {t(c.description_key)}" for c in commands),
    ]
    lines += ["", t("help.answering")]
    return [Reply("\n".join(lines))]


async def cancel(turn: Turn) -> list[Reply]:
    conversation = turn.conversation
    if conversation.flow is None:
        return [Reply(turn.t("cancel.nothing"), menu_keyboard(turn))]
    flow = conversation.flow
    conversation.flow = None
    pending.put(conversation, None)
    if flow == draft.FLOW:  # /draft writes the draft: the way back is the details button
        again = (
            (render.button(turn.t("button.continue_details"), draft.BUTTONS.data("details")),),
            (render.button(turn.t("button.draft_now"), draft.BUTTONS.data("now")),),
        )
        return [Reply(turn.t("cancel.draft_details"), again)]
    key = N_("cancel.interview") if flow == interview.FLOW else N_("cancel.done")  # /apply resumes
    return [Reply(turn.t(key), menu_keyboard(turn))]


def unknown(turn: Turn) -> list[Reply]:
    return [Reply(turn.t("error.unknown_command"))]


START = Command("start", N_("command.start"), start_command)
HELP = Command("help", N_("command.help"), help_)
CANCEL = Command("cancel", N_("command.cancel"), cancel)
