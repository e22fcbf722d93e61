"""The web chat's baseline: a bare aiohttp app answering the same requests with a fixed
page (GET /) and a redirect (POST /say, /press), no database, no handlers."""

from __future__ import annotations

import sys

from aiohttp import web

PAGE = (
    "<!doctype html><html lang=zh-CN><head><meta charset=utf-8><title>echo</title></head>"
    "<body><main><section class=message><div class=text>"
    + "第 1/23 题 · 基本信息 请输入贵单位的全称（与营业执照一致）。" * 8
    + "</div></section></main></body></html>"
)


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def answer(request: web.Request) -> web.Response:
    await request.post()
    return web.Response(status=303, headers={"Location": "/"})


def main() -> None:
    host, _, port = sys.argv[1].rpartition(":")
    app = web.Application()
    app.add_routes([web.get("/", page), web.post("/say", answer), web.post("/press", answer)])
    print(f"listening on http://{host}:{port}/", flush=True)
    web.run_app(app, host=host, port=int(port), print=None, access_log=None)


if __name__ == "__main__":
    main()
