"""An e-mail address for the office's notices, as an applicant would give one: optional,
offered once (under the result of their first submitted application), and given, changed
or removed at any time with /email. Typing the address after being told what it is for is
the consent; every e-mail carries a link that unsubscribes (bot/unsubscribe.py). The
privacy notice, /mydata and /delete include it like the rest of the user row."""

from __future__ import annotations

from html import escape

from email_validator import EmailNotValidError, validate_email

from handlers.kernel import render
from handlers.kernel.commands import Buttons, Command
from handlers.kernel.context import Turn
from handlers.kernel.types import Keyboard, Reply
from locales import N_
from models.tables import Channel, Flow, utcnow

FLOW = Flow.EMAIL
BUTTONS = Buttons("mail")
MAX_LENGTH = 254  # RFC 5321's longest path


def normalized(text: str) -> str | None:
    """The address as mail servers take it (the domain lower-cased, IDNA), or None for
    text that is not one. Never looked up: no network, and a typo is the user's to see."""
    if len(text) > MAX_LENGTH:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _keyboard(turn: Turn) -> Keyboard:
    t = turn.t
    buttons = [render.button(t("email.button.skip"), BUTTONS.data("skip"))]
    if turn.user.email is not None:
        buttons.append(render.button(t("email.button.remove"), BUTTONS.data("remove")))
    return (tuple(buttons),)


async def ask(turn: Turn) -> list[Reply]:
    """/email: what the address is for, the one on file, and the next message takes it."""
    t, user = turn.t, turn.user
    turn.conversation.flow = FLOW
    user.email_asked_at = user.email_asked_at or utcnow()
    lines = [t("email.ask")]
    if user.email is not None:
        lines.append(t("email.current", address=escape(user.email)))
        if user.email_failed:
            lines.append(t("email.failed", reason=escape(user.email_failed)))
    return [Reply("\n\n".join(lines), _keyboard(turn))]


async def on_text(turn: Turn) -> list[Reply]:
    typed = (turn.event.text or "").strip()
    address = normalized(typed)
    if address is None:  # the same question again, with why
        return [Reply(turn.t("email.invalid", typed=escape(typed[:80])), _keyboard(turn))]
    turn.user.email, turn.user.email_failed = address, None
    turn.conversation.flow = None
    return [Reply(turn.t("email.saved", address=escape(address)))]


async def on_button(turn: Turn, rest: str) -> list[Reply]:
    if rest == "ask":
        return await ask(turn)
    if turn.conversation.flow == FLOW:
        turn.conversation.flow = None
    if rest == "remove" and turn.user.email is not None:
        turn.user.email, turn.user.email_failed = None, None
        return [Reply(turn.t("email.removed"), edit=True)]
    return [Reply(turn.t("email.skipped"), edit=True)]


def offer(turn: Turn) -> list[Reply]:
    """Under a result: once, to whoever has not been asked and has no address (the
    terminal's operator is not an applicant)."""
    user = turn.user
    if user.email_asked_at is not None or user.email or user.channel == Channel.CONSOLE:
        return []
    user.email_asked_at = utcnow()
    button = render.button(turn.t("email.button.offer"), BUTTONS.data("ask"))
    return [Reply(turn.t("email.offer"), ((button,),))]


COMMAND = Command("email", N_("command.email"), ask)
