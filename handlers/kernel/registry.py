"""Every command and every button family the bot answers, in one table: the router
dispatches from it, /help and the platform's command menus are built from it, and its
admin flags are the only admin check of commands and buttons. A feature declares its
commands and buttons in its own module; adding one here is one line."""

from __future__ import annotations

from handlers.admin import admins, broadcast, broadcast_text, export, stats
from handlers.applicant import account, draft, email_address, interview
from handlers.kernel import flows, menu
from handlers.kernel.commands import Buttons, Command, Press
from handlers.kernel.dispatch import Flow
from handlers.training import events, survey

# In the order /help and the command menu list them.
COMMANDS: tuple[Command, ...] = (
    menu.START,
    interview.COMMAND,
    draft.COMMAND,
    survey.COMMAND,
    account.LANGUAGE_COMMAND,
    menu.HELP,
    menu.CANCEL,
    email_address.COMMAND,
    account.MYDATA_COMMAND,
    account.DELETE_COMMAND,
    broadcast.COMMAND,
    stats.COMMAND,
    export.COMMAND,
    events.COMMAND,
    admins.COMMAND,
)

# Each family of buttons and what a press runs; the forms' own (an answer, back, skip,
# review …) are the flows'. Any other button has gone stale.
BUTTONS: tuple[tuple[Buttons, Press], ...] = (
    (account.LANGUAGE, account.on_language),
    (account.DELETE, account.on_delete),
    (email_address.BUTTONS, email_address.on_button),
    (interview.RESULT, interview.on_result),
    (interview.RESTART, interview.on_restart),
    (draft.BUTTONS, draft.on_button),
    (survey.BUTTONS, survey.on_button),
    (broadcast_text.BUTTONS, broadcast.on_button),
    (events.BUTTONS, events.on_button),
    *flows.BUTTONS,
)

# What conversations declare of themselves (the forms' own are in handlers/kernel/flows.py).
FLOWS: tuple[Flow, ...] = (
    Flow(broadcast.FLOW, admin=True, on_text=broadcast.on_message),
    Flow(events.FLOW, admin=True),
    Flow(email_address.FLOW, on_text=email_address.on_text),
    Flow(survey.CHECK_IN, on_text=survey.on_check_in),
)
