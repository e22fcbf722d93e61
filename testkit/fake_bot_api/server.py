"""A fake Telegram Bot API server for end-to-end tests and benchmarks.

Real bot libraries (aiogram, python-telegram-bot) talk to it over HTTP exactly as they
talk to api.telegram.org, so a test exercises the bot's real request/response path:
serialisation, error handling, retries.  The server refuses what Telegram refuses
(unknown methods, missing parameters, bad HTML, oversized callback data, edits that
change nothing, blocked users, flood limits) with Telegram's own status codes and
wording, and it exposes the conversation to the test as a chat:

    server = FakeBotAPI(token="123456:TEST-TOKEN", bot_username="my_bot")
    await server.start()
    user = server.user(1001, first_name="Li")
    await user.send("/start")
    reply = await user.next_message()
    await user.press("Yes")

Nothing here knows about any particular bot.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from .files import MAX_UPLOAD_SIZE, Files
from .spec import BotApiSpec


class FakeBotAPI(Files):
    """An in-process HTTP server speaking the Telegram Bot API.

    Failure injection: ``rate_limit_per_second`` (global) and
    ``per_chat_limit_per_second`` answer 429 with retry_after for send*/edit*/
    copy*/forward* calls beyond the limit (sendChatAction is not limited);
    ``blocked_chat_ids`` answer 403; with ``strict_chats`` a chat id never registered
    through ``user()`` is "chat not found"; ``fail_next()`` injects any error once.

    One class a concern, each on top of the last and registering its own methods:
    Dispatcher (the HTTP calls), Chats, Updates, Messages, Files; this one adds the
    settings and the lifecycle.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "fake_test_bot",
        *,
        bot_first_name: str = "Test Bot",
        rate_limit_per_second: float | None = None,
        per_chat_limit_per_second: float | None = None,
        blocked_chat_ids: set[int] | None = None,
        deactivated_chat_ids: set[int] | None = None,
        strict_chats: bool = True,
        latency: float = 0.0,
        record_calls: bool = True,
        spec_path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1
        self.rate_limit_per_second = rate_limit_per_second
        self.per_chat_limit_per_second = per_chat_limit_per_second
        self.blocked_chat_ids: set[int] = set(blocked_chat_ids or ())
        self.deactivated_chat_ids: set[int] = set(deactivated_chat_ids or ())
        self.strict_chats = strict_chats
        self.latency = latency
        self.record_calls = record_calls
        self.host = host
        self.port = port
        self.spec = BotApiSpec.load(spec_path)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        super().__init__()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotAPI is already running")
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # A short shutdown grace: long polls are woken on stop(), nothing else lingers.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._closing = True
        self._notify_updates()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, for aiogram's TelegramAPIServer.from_base."""
        if self._base_url is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """``<base_url>/bot<token>``: the prefix of every method URL."""
        return f"{self.base_url}/bot{self.token}"
