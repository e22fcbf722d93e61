"""A round-robin HTTP load balancer on 127.0.0.1, for webhook processes that share one
database: the one URL Telegram (here the fake server) posts every update to.

Each POST goes to the next backend in turn with its path, body and headers; the backend's
status and answer go back as they are, so a secret the backend refuses is refused, and an
update a backend has not confirmed is posted again by Telegram. It runs in the test's or
benchmark's process (bench/interview_load.py: its CPU counts with the load generator's,
not with the bots'), as tests/system/test_scale_out.py and the benchmark use it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from testkit.telegram import free_port

# Hop-by-hop, or describing this connection's body rather than the update: aiohttp sets
# them again for the backend's connection and for the answer.
NOT_FORWARDED = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
)


@asynccontextmanager
async def balancing(backends: list[int]) -> AsyncIterator[tuple[str, Counter[int]]]:
    """Serve until the block ends; yields the balancer's base URL (``http://127.0.0.1:port``)
    and how many posts each backend port answered with 2xx."""
    answered: Counter[int] = Counter()
    turn = itertools.cycle(backends)
    # One session for all posts: connections to the backends are kept open, as a real
    # balancer keeps them, instead of a TCP handshake per update.
    http = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        port = next(turn)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED}
        try:
            async with http.post(
                f"http://127.0.0.1:{port}{request.path_qs}",
                data=await request.read(),
                headers=headers,
            ) as response:
                body = await response.read()
        except aiohttp.ClientError:
            # A backend not listening (yet, or any more): Telegram posts the update again.
            return web.Response(status=502)
        if 200 <= response.status < 300:
            answered[port] += 1
        answer = {k: v for k, v in response.headers.items() if k.lower() == "content-type"}
        return web.Response(status=response.status, body=body, headers=answer)

    app = web.Application()
    app.router.add_post("/{path:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield f"http://127.0.0.1:{port}", answered
    finally:
        await runner.cleanup()
        await http.close()
