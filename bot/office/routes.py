"""The office pages: what a programme officer does every week, in a browser, for an
office that cannot reach Telegram — the overview of /stats, the applications, the events
with their QR codes and reports, the /export spreadsheet, and the audit of changes.

Served under /office/ by the web chat's app (bot/transports/web/chat.py). Server-rendered,
no script, nothing from another host; every page answers only a signed-in officer
(bot/office/auth.py), every post carries a CSRF token and is written to the audit. The
data comes from the functions the chat's commands use (handlers/admin/stats, export, events,
survey_report, draft), never from a second copy of their queries.
"""

from __future__ import annotations

from aiohttp import web

from bot.office.applications import ApplicationPages
from bot.office.auth import OfficeAuth
from bot.office.broadcasts import BroadcastPages
from bot.office.events import EventPages
from bot.office.signin import SigninPages
from bot.office.site import Site
from bot.pages.identity import Signer
from handlers.kernel.context import Context

ID = "{id:\\d{1,12}}"


def office_routes(
    context: Context, signer: Signer, secure_cookie: bool, public_url: str | None
) -> list[web.RouteDef]:
    """The office pages' routes, for the web chat's app: same key, same address. Each page
    group gets the one ``Site``; ``page`` and ``act`` let only a signed-in officer in."""
    auth = OfficeAuth(context.sessions, signer, secure_cookie=secure_cookie)
    site = Site(context, auth, public_url)
    signin, apps = SigninPages(site), ApplicationPages(site)
    events, broadcasts = EventPages(site), BroadcastPages(site)
    page, act, one = site.page, site.action, events.about_event
    return [
        web.get("/office", signin.to_overview),
        web.get("/office/", page(apps.overview)),
        web.get("/office/signin", signin.signin_help),
        web.get("/office/signin/{token}", signin.signin_page),
        web.post("/office/signin", signin.signin),
        web.post("/office/signout", act(signin.signout)),
        web.post("/office/language", act(signin.language)),
        web.get("/office/applications", page(apps.applications)),
        web.get(f"/office/applications/{ID}", page(apps.application)),
        web.post(f"/office/applications/{ID}/draft", act(apps.draft)),
        web.get("/office/events", page(events.events)),
        web.post("/office/events", act(events.create_event)),
        web.get(f"/office/events/{ID}", page(one(events.event))),
        web.post(f"/office/events/{ID}/{{to:close|open}}", act(one(events.set_open))),
        web.get(f"/office/events/{ID}/qr.png", page(one(events.event_qr))),
        web.get(f"/office/events/{ID}/chart.png", page(one(events.event_chart))),
        web.get(f"/office/events/{ID}/report.xlsx", page(one(events.event_xlsx))),
        web.post("/office/export.xlsx", act(apps.export)),  # it writes the audit: a POST
        web.get("/office/audit", page(apps.audit)),
        web.get("/office/static/office.css", signin.static),
        web.get("/office/broadcasts", page(broadcasts.jobs)),
        web.get("/office/broadcasts/new", page(broadcasts.compose)),
        web.post("/office/broadcasts/preview", act(broadcasts.preview)),
        web.post("/office/broadcasts", act(broadcasts.queue)),
        web.post(f"/office/broadcasts/{ID}/{{to:pause|resume|stop}}", act(broadcasts.move)),
    ]
