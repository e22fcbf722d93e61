"""Settings from the environment (and ``.env``), checked before anything connects."""

from __future__ import annotations

import re
from email.utils import parseaddr
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from forms.definition import programme
from models.db import to_async_url
from models.tables import Channel

IPNetwork = IPv4Network | IPv6Network
MIN_SECRET = 32  # characters of WEB_SECRET: guessing it must be out of reach
# Variables whose values an error message must not repeat.
SECRETS = frozenset({"BOT_TOKEN", "WEBHOOK_SECRET", "WEB_SECRET", "SMTP_URL"})
# WEB_LISTEN's value for "no web chat".
OFF = "off"
# Listening on these takes the port on every address of the host.
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})
# Telegram's rule for a webhook's secret_token.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    bot_token: SecretStr | None = None
    bot_api_server: AnyHttpUrl | None = None
    # For the survey links `patentbot event new` prints; a running bot learns it from Telegram.
    bot_username: str | None = None
    bot_framework: Literal["aiogram", "ptb"] = "aiogram"
    database_url: str = "sqlite:///patentbot.db"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: Literal["zh_CN", "zh_HK", "en"] = "zh_CN"
    programme: str = "nansha-2024"
    output_dir: Path = Path("patentbot-files")
    # Broadcast messages per second, all chats together. Telegram allows about 30; the
    # default leaves room for the replies the bot sends meanwhile.
    broadcast_rate: Annotated[float, Field(gt=0, le=10_000)] = 25.0
    # Webhook mode: the public URL Telegram posts updates to (unset: long polling), the
    # address the bot listens on behind the proxy, and the secret Telegram sends back.
    webhook_url: AnyHttpUrl | None = None
    webhook_listen: Annotated[tuple[str, int], NoDecode] = ("0.0.0.0", 8080)
    webhook_secret: SecretStr | None = None
    # The web chat: where it listens (behind an HTTPS proxy in production; "off": no web
    # chat, as for a Telegram-only process), the address people reach it by, and the key
    # that signs its cookies (made and stored in the database on first start when unset,
    # so that every process agrees).
    web_listen: Annotated[tuple[str, int] | None, NoDecode] = ("127.0.0.1", 8080)
    public_url: AnyHttpUrl | None = None
    # The proxies in front of the web chat (nginx …), addresses or networks: only from them
    # is X-Forwarded-For believed (as uvicorn's --forwarded-allow-ips). None: the peer is
    # the visitor.
    trusted_proxies: Annotated[tuple[IPNetwork, ...], NoDecode] = ()
    web_secret: SecretStr | None = None
    # E-mail for the applicants who gave an address: the SMTP server
    # (smtps://user:password@host:465, or smtp://host:587 with STARTTLS), the sender
    # ("Office name <address>"), and messages a second.
    smtp_url: SecretStr | None = None
    smtp_from: str | None = None
    smtp_rate: Annotated[float, Field(gt=0, le=1000)] = 5.0
    # Web visitors who gave nothing (no answer, no address) are erased this long after
    # they came (models/purge.py): a visit leaves nothing behind for ever.
    visitor_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = urlsplit(value.get_secret_value())
            if url.scheme not in ("smtp", "smtps") or not url.hostname:
                raise ValueError("expected smtps://user:password@host:465 or smtp://host:587")
        return value

    @model_validator(mode="after")
    def _mail_needs_a_sender_and_links(self) -> Settings:
        if self.smtp_url is not None:
            if not self.smtp_from or "@" not in parseaddr(self.smtp_from)[1]:
                raise ValueError(
                    "SMTP_FROM: expected the sender, e.g. 南沙区知识产权办公室 <ip@example.gov.cn>"
                )
            if self.public_url is None:
                raise ValueError(
                    "PUBLIC_URL: expected the address people reach the web chat by, for the"
                    " unsubscribe link every e-mail carries (SMTP_URL is set)"
                )
        return self

    @field_validator("webhook_listen", "web_listen", mode="before")
    @classmethod
    def _host_and_port(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        may_be_off = info.field_name == "web_listen"
        if may_be_off and value.strip().lower() == OFF:
            return None
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            also = f", or {OFF} for none" if may_be_off else ""
            raise ValueError(f"expected host:port, e.g. 0.0.0.0:8080 or 127.0.0.1:8443{also}")
        return host.strip("[]"), int(port)

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("expected 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator(
        "bot_token",
        "bot_api_server",
        "webhook_url",
        "webhook_secret",
        "public_url",
        "web_secret",
        "smtp_url",
        "smtp_from",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # `BOT_TOKEN=` in a .env file means "not set", not an empty token.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("web_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET:
            raise ValueError(
                f"expected at least {MIN_SECRET} characters (it signs every cookie), e.g. "
                "the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return tuple(
                ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()
            )
        except ValueError:
            raise ValueError(
                "expected comma-separated addresses or networks, e.g. 127.0.0.1,10.0.0.0/8"
            ) from None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("expected comma-separated Telegram user ids, e.g. 12345,67890")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        to_async_url(value)  # raises with the accepted forms
        return value

    @field_validator("programme")
    @classmethod
    def _programme_exists(cls, value: str) -> str:
        try:
            programme(value)
        except FileNotFoundError as e:  # validators must raise ValueError to be reported
            raise ValueError(str(e)) from e
        return value


def listeners_clash(settings: Settings) -> bool:
    """Would the web chat and the webhook receiver try to listen on the same port? (They
    are one process with a token and WEBHOOK_URL; the second to bind would fail.)"""
    web, hook = settings.web_listen, settings.webhook_listen
    if web is None or settings.webhook_url is None or settings.bot_token is None:
        return False
    hosts = {web[0], hook[0]}
    return web[1] == hook[1] and (len(hosts) == 1 or bool(hosts & ANY_ADDRESS))


def route_rates(settings: Settings) -> dict[Channel, float | None]:
    """The routes broadcasts go out on in this deployment, with their messages a second:
    the web inbox always, Telegram with BOT_TOKEN, e-mail with SMTP_URL."""
    rates: dict[Channel, float | None] = {Channel.WEB: None}
    if settings.bot_token is not None:
        rates[Channel.TELEGRAM] = settings.broadcast_rate
    if settings.smtp_url is not None:
        rates[Channel.EMAIL] = settings.smtp_rate
    return rates


class SettingsError(Exception):
    """Bad settings, explained per variable."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as e:
        lines = []
        for error in e.errors():
            if not error["loc"]:  # a rule between variables: its message names them
                lines.append(error["msg"].removeprefix("Value error, "))
                continue
            variable = "_".join(str(part) for part in error["loc"][:1]).upper()
            got = "" if variable in SECRETS else f" (got {error.get('input')!r})"
            lines.append(f"{variable}: {error['msg']}{got}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
