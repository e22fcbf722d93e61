"""Who is an admin: the ADMIN_IDS of the settings, and the admins an admin adds or removes
in the chat (/admins, stored)."""

from __future__ import annotations

from functools import partial
from html import escape

from handlers.kernel import render
from handlers.kernel.command_menu import admin_menu
from handlers.kernel.commands import Command, as_user_id
from handlers.kernel.context import Turn
from handlers.kernel.types import Reply
from locales import N_
from models import officers, queries


def _name(display_name: str | None) -> str:
    return escape(display_name) if display_name else "—"


async def _list(turn: Turn) -> list[Reply]:
    t = turn.t
    lines = [t("admins.title")]
    for admin_id in sorted(turn.context.admin_ids):
        user = await queries.get_user(turn.session, admin_id)
        name = _name(user.display_name if user else None)
        lines.append(t("admins.from_settings", name=name, id=admin_id))
    for admin, user in await queries.stored_admins(turn.session):
        if admin.user_id in turn.context.admin_ids:
            continue
        lines.append(
            t(
                "admins.stored",
                name=_name(user.display_name if user else None),
                id=admin.user_id,
                date=render.local_date(t, admin.added_at),
                by=admin.added_by or "—",  # ERASED_USER: the adder erased their data
            )
        )
    found = await officers.listed(turn.session)
    if found:
        lines += ["", t("admins.officers_title")]
        lines += [
            t(
                "admins.officer_line",
                name=escape(o.name),
                last=render.local_date(t, o.last_signin_at) if o.last_signin_at else "—",
            )
            for o in found
        ]
    lines += ["", t("admins.usage"), t("admins.officer_usage")]
    return [Reply("\n".join(lines))]


async def _officer(turn: Turn, name: str) -> list[Reply]:
    """/admins officer NAME: a programme officer of the office pages (in a browser), and
    the one-time link that signs them in, for the admin to pass on."""
    t = turn.t
    name = " ".join(name.split())
    if not officers.valid_name(name):
        return [Reply(t("admins.officer_bad_name", length=officers.NAME_LENGTH))]
    if turn.context.public_url is None:  # no address a browser could open
        return [Reply(t("admins.officer_no_address", name=escape(name)))]
    token, new = await officers.add_with_link(turn.session, name, str(turn.user.id))
    link = escape(officers.signin_link(turn.context.public_url, token))
    values = {"name": escape(name), "hours": officers.LINK_HOURS, "link": link}
    if new:
        return [Reply(t("admins.officer_added", **values))]
    return [Reply(t("admins.officer_new_link", **values))]


async def command(turn: Turn) -> list[Reply]:
    """/admins, /admins add <user id>, /admins remove <user id>."""
    t = turn.t
    words = turn.event.args.split()
    if not words:
        return await _list(turn)
    if words[0] == "officer":
        return await _officer(turn, turn.event.args.strip().removeprefix("officer"))
    named = as_user_id(words[1]) if len(words) == 2 else None
    if words[0] not in ("add", "remove") or named is None or named <= 0:
        return [Reply(t("admins.bad_id"))]
    action, user_id = words[0], named
    if action == "add":
        if user_id in turn.context.admin_ids or not await queries.add_admin(
            turn.session, user_id, turn.user.id
        ):
            return [Reply(t("admins.already", id=user_id))]
        user = await queries.get_user(turn.session, user_id)
        if user is None:
            return [Reply(t("admins.added_unknown", id=user_id))]
        turn.after_commit(partial(admin_menu, turn.context, turn.commands, user_id, True))
        return [Reply(t("admins.added", name=_name(user.display_name), id=user_id))]
    if user_id in turn.context.admin_ids:
        return [Reply(t("admins.in_settings", id=user_id))]
    if not await queries.remove_admin(turn.session, user_id):
        return [Reply(t("admins.not_stored", id=user_id))]
    turn.after_commit(partial(admin_menu, turn.context, turn.commands, user_id, False))
    return [Reply(t("admins.removed", id=user_id))]


COMMAND = Command("admins", N_("command.admins"), command, admin=True)
