"""Every command and every button family the bot answers, in one table: the router
dispatches from it, /help and the platform's command menus are built from it, and its
admin flags are the only admin check of commands and buttons. A feature declares its
commands and buttons in its own module; adding one here is one line."""

from __future__ import annotations

from handlers import (
    account,
    admins,
    broadcast,
    broadcast_text,
    draft,
    events,
    export,
    flows,
    interview,
    menu,
    stats,
    survey,
)
from handlers.commands import Buttons, Command, Press

# In the order /help and the command menu list them.
COMMANDS: tuple[Command, ...] = (
    menu.START,
    interview.COMMAND,
    draft.COMMAND,
    survey.COMMAND,
    account.LANGUAGE_COMMAND,
    menu.HELP,
    menu.CANCEL,
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
    (interview.RESULT, interview.on_result),
    (interview.RESTART, interview.on_restart),
    (draft.BUTTONS, draft.on_button),
    (survey.BUTTONS, survey.on_button),
    (broadcast_text.BUTTONS, broadcast.on_button),
    (events.BUTTONS, events.on_button),
    *flows.BUTTONS,
)

# Conversations only an admin may be in (one who is no longer an admin leaves them).
ADMIN_FLOWS = frozenset({broadcast.FLOW, events.FLOW})
