"""The HTTP face of the fake server: requests read as Telegram reads them, each call recorded,
checked against the Bot API spec, limited in rate or failed on purpose, then handed to the
method's handler."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .records import ApiCall, Json
from .spec import (
    ApiError,
    BotApiSpec,
    MethodSpec,
    UploadedFile,
    bad_request,
    check_required,
    coerce_params,
)

Handler = Callable[[Json], Awaitable[Any]]


@dataclass
class _InjectedError:
    method: str | None
    error: ApiError
    remaining: int
    chat_id: int | str | None


class _Window:
    """Sliding-window limiter: at most `capacity` acquisitions per `span` seconds."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("rate limits must be positive")
        self.per_second = per_second
        # Fractional limits (0.5/s) become one request per 2 s rather than zero.
        self.capacity = max(1, int(per_second))
        self.span = self.capacity / per_second
        self._stamps: deque[float] = deque()

    def try_acquire(self, now: float) -> float | None:
        """Record a request, or return how long until one would be allowed."""
        while self._stamps and self._stamps[0] <= now - self.span:
            self._stamps.popleft()
        if len(self._stamps) >= self.capacity:
            return self._stamps[0] + self.span - now
        self._stamps.append(now)
        return None


class Dispatcher:
    """Routes each API call to the handler a concern registered in ``_handlers``."""

    # Set by FakeBotAPI from its arguments.
    token: str
    latency: float
    record_calls: bool
    rate_limit_per_second: float | None
    per_chat_limit_per_second: float | None
    spec: BotApiSpec

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.rate_limited_count = 0
        self._global_window: _Window | None = None
        self._chat_windows: dict[Any, _Window] = {}
        self._injected: list[_InjectedError] = []
        self._handlers: dict[str, Handler] = {
            "logOut": self._always_true,
            "close": self._always_true,
        }

    def calls_to(self, method: str) -> list[Json]:
        """Parameters of every call to `method` (case-insensitive), in order."""
        wanted = method.lower()
        return [call.params for call in self.calls if call.method.lower() == wanted]

    def fail_next(
        self,
        method: str | None = None,
        *,
        error_code: int = 500,
        description: str = "Internal Server Error",
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next `times` matching calls with this error instead."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if error_code == 429 and description == "Internal Server Error":
            description = f"Too Many Requests: retry after {retry_after}"
        self._injected.append(
            _InjectedError(
                method=method.lower() if method else None,
                error=ApiError(error_code, description, retry_after=retry_after),
                remaining=times,
                chat_id=chat_id,
            )
        )

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        token = request.match_info["token"]
        name = request.match_info["method"]
        if token != self.token:
            body = ApiError(401, "Unauthorized").to_json()
            if self.record_calls:
                self.calls.append(ApiCall(name, {}, status=401, response=body))
            return self._json_response(401, body)
        try:
            raw, uploads = await _read_parameters(request)
        except ApiError as error:
            return self._json_response(error.error_code, error.to_json())
        status, body = await self._dispatch(
            name,
            raw,
            uploads,
            http_method=request.method,
            content_type=request.content_type,
        )
        return self._json_response(status, body)

    async def _handle_unknown_path(self, request: web.Request) -> web.StreamResponse:
        return self._json_response(404, ApiError(404, "Not Found").to_json())

    @staticmethod
    def _json_response(status: int, body: Json) -> web.Response:
        return web.Response(
            status=status,
            text=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
        )

    async def _dispatch(
        self,
        name: str,
        raw: Json,
        uploads: dict[str, UploadedFile],
        *,
        http_method: str = "POST",
        content_type: str = "",
    ) -> tuple[int, Json]:
        method = self.spec.method(name)
        call = ApiCall(
            method=method.name if method else name,
            params=dict(raw),
            http_method=http_method,
            content_type=content_type,
        )
        if self.record_calls:
            self.calls.append(call)
        try:
            if method is None:
                raise ApiError(404, "Not Found")
            params = coerce_params(method, raw, uploads)
            call.params = params
            self._check_required(method, params)
            self._raise_injected(method.name, params)
            if _is_rate_limited(method.name):
                self._check_rate_limits(params.get("chat_id"))
            handler = self._handlers.get(method.name)
            if handler is not None:
                result = await handler(params)
            else:
                result = await self._generic_method(method, params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            if error.error_code == 429:
                self.rate_limited_count += 1
            status, body = error.error_code, error.to_json()
        call.status = status
        call.response = body
        return status, body

    def _check_required(self, method: MethodSpec, params: Json) -> None:
        if method.name == "setWebhook" and params.get("url") == "":
            return  # an empty url is how setWebhook removes the webhook
        check_required(method, params)

    def _raise_injected(self, method: str, params: Json) -> None:
        for injected in self._injected:
            if injected.method not in (None, method.lower()):
                continue
            if injected.chat_id is not None and injected.chat_id != params.get("chat_id"):
                continue
            injected.remaining -= 1
            if injected.remaining <= 0:
                self._injected.remove(injected)
            raise injected.error

    def _check_rate_limits(self, chat_id: Any) -> None:
        now = time.monotonic()
        if self.rate_limit_per_second is not None:
            window = self._global_window
            # Limits may be changed on a running server; a new limit starts afresh.
            if window is None or window.per_second != self.rate_limit_per_second:
                window = self._global_window = _Window(self.rate_limit_per_second)
            wait = window.try_acquire(now)
            if wait is not None:
                raise _too_many_requests(wait)
        if self.per_chat_limit_per_second is not None and chat_id is not None:
            chat_window = self._chat_windows.get(chat_id)
            if chat_window is None or chat_window.per_second != self.per_chat_limit_per_second:
                chat_window = _Window(self.per_chat_limit_per_second)
                self._chat_windows[chat_id] = chat_window
            wait = chat_window.try_acquire(now)
            if wait is not None:
                raise _too_many_requests(wait)

    async def _always_true(self, params: Json) -> bool:
        return True

    async def _generic_method(self, method: MethodSpec, params: Json) -> Any:
        """A method no concern handles; the messages part says what it does."""
        raise NotImplementedError


async def _read_parameters(request: web.Request) -> tuple[Json, dict[str, UploadedFile]]:
    """Collect parameters from the query string and any supported body encoding."""
    raw: Json = {key: request.query[key] for key in request.query}
    uploads: dict[str, UploadedFile] = {}
    if request.method not in {"POST", "PUT"} or not request.can_read_body:
        return raw, uploads
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if isinstance(body, dict):
            raw.update(body)
    elif content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        for key in form:
            value = form[key]
            if isinstance(value, web.FileField):
                uploads[key] = UploadedFile(
                    field=key,
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
            elif isinstance(value, (bytes, bytearray)):
                raw[key] = bytes(value).decode("utf-8", errors="replace")
            else:
                raw[key] = value
    return raw, uploads


def _is_rate_limited(method: str) -> bool:
    return method != "sendChatAction" and method.startswith(("send", "edit", "copy", "forward"))


def _too_many_requests(wait: float) -> ApiError:
    retry_after = max(1, math.ceil(wait))
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
