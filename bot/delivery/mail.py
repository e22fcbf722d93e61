"""E-mail: broadcasts to the applicants who gave an address for notices, through the
SMTP server of SMTP_URL (aiosmtplib), one connection kept open and reopened when the
server drops it.

Every message has a plain-text and an HTML part, the office as its sender (SMTP_FROM), a
List-Unsubscribe header (with one-click, RFC 8058) and a link in its footer that work
without signing in: a signed token names the user and the address it was sent to, so it
stops working once they give another.

The server's answers become the delivery runner's neutral outcomes: a refusal for good
(5xx: no such mailbox, mailbox disabled) is ``RecipientGone``; anything else (4xx, a
dropped connection, a timeout) is an error tried again after a backoff.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib
from markupsafe import Markup

from bot.delivery.unsubscribe import unsubscribe_token
from bot.pages.identity import Signer
from bot.pages.shown_html import shown
from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.types import RecipientGone
from locales import translator
from models.tables import Broadcast

PERMANENT = 500  # SMTP reply codes from here on: do not try again


class Mailer:
    """Sends a broadcast to one address; the runner paces and records it."""

    def __init__(self, url: str, sender: str, public_url: str, signer: Signer, form: Form) -> None:
        parts = urlsplit(url)
        self.client = aiosmtplib.SMTP(
            hostname=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=parts.scheme == "smtps",
            # STARTTLS when the server offers it (aiosmtplib's default); a plain server on
            # loopback (a relay on the same host) is used as it is.
            start_tls=None,
        )
        self.sender = sender
        self.public_url = public_url.rstrip("/")
        self.signer = signer
        self.form = form
        self._lock = asyncio.Lock()  # one SMTP transaction at a time on the connection

    async def send(self, address: str, user_id: int, job: Broadcast) -> None:
        message = self.message(address, user_id, job)
        async with self._lock:
            for attempt in (1, 2):  # a connection the server closed since: open it again
                try:
                    if not self.client.is_connected:
                        await self.client.connect()
                    await self.client.send_message(message)
                    return
                except aiosmtplib.SMTPServerDisconnected:
                    self.client.close()
                    if attempt == 2:
                        raise
                except aiosmtplib.SMTPRecipientsRefused as e:
                    codes = [refused.code for refused in e.recipients]
                    if all(code >= PERMANENT for code in codes):
                        raise RecipientGone("; ".join(r.message for r in e.recipients)) from e
                    raise
                except aiosmtplib.SMTPResponseException as e:
                    if e.code >= PERMANENT and isinstance(e, aiosmtplib.SMTPRecipientRefused):
                        raise RecipientGone(e.message) from e
                    raise

    async def close(self) -> None:
        if self.client.is_connected:
            try:
                await self.client.quit()
            except aiosmtplib.SMTPException:
                self.client.close()

    def message(self, address: str, user_id: int, job: Broadcast) -> EmailMessage:
        """The broadcast as an e-mail in the language it was written in."""
        t = translator(job.locale)
        link = f"{self.public_url}/unsubscribe/{unsubscribe_token(self.signer, user_id, address)}"
        message = EmailMessage(policy=SMTP)
        name, sender = parseaddr(self.sender)
        message["From"] = self.sender if name else f"{plain(t(self.form.title))} <{sender}>"
        message["To"] = address
        message["Subject"] = plain(t("mail.subject", programme=t(self.form.title)))
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        message["List-Unsubscribe"] = f"<{link}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        programme = t(self.form.title)
        footer = t("mail.footer", programme=programme, link=link)
        message.set_content(f"{plain(job.text)}\n\n-- \n{plain(footer)}\n")
        body = shown(job.text).replace("\n", Markup("<br>\n"))
        anchor = Markup('<a href="{0}">{0}</a>').format(link)
        html = Markup(
            '<!doctype html><html><body style="font-family:sans-serif;line-height:1.6">'
            '<div>{}</div><hr><p style="color:#666;font-size:90%">{}</p></body></html>'
        ).format(body, Markup(t("mail.footer", programme=programme, link=anchor)))
        message.add_alternative(html, subtype="html")
        return message
