"""Drive the office pages the way an officer's browser without JavaScript does: its
cookies, the page it shows, its forms with their CSRF token; and an officer's sign-in
link, made as ``patentbot admins add`` makes it."""

from __future__ import annotations

import re

import aiohttp
from yarl import URL

from handlers.kernel.router import Router
from locales import translator
from models import officers

CSRF = re.compile(r'name="csrf" value="([^"]*)"')


class Officer:
    """One browser on the office pages: its cookies, the page it shows."""

    def __init__(self, base: URL, language: str = "zh-CN,zh;q=0.9") -> None:
        self.base = base
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Accept-Language": language}
        )
        self.status = 0
        self.html = ""
        self.body = b""
        self.headers: dict[str, str] = {}

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str) -> str:
        async with self.http.get(self.base.join(URL(path))) as response:
            self.status, self.body = response.status, await response.read()
            self.headers = dict(response.headers)
        self.html = self.body.decode(errors="replace")
        return self.html

    async def post(self, path: str, form: dict[str, str], *, csrf: bool = True) -> str:
        """Post a form of the page shown, with its token unless told not to."""
        data = {"csrf": self.csrf} | form if csrf else form
        async with self.http.post(self.base.join(URL(path)), data=data) as response:
            self.status, self.body = response.status, await response.read()
            self.headers = dict(response.headers)
        self.html = self.body.decode(errors="replace")
        return self.html

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.html)
        assert found, self.html
        return found.group(1)

    async def sign_in(self, link: str) -> None:
        await self.get(URL(link).path)
        assert self.status == 200, self.html
        assert 'action="/office/signin"' in self.html
        link_field = re.search(r'name="link" value="([^"]*)"', self.html)
        assert link_field
        await self.post("/office/signin", {"link": link_field.group(1)})
        assert self.status == 200 and translator("zh_CN")("office.nav.applications") in self.html, (
            self.html
        )


async def add_officer_link(router: Router, name: str) -> str:
    """What ``patentbot admins add`` does, in this process: the link."""
    async with router.context.sessions() as session:
        officer = await officers.add(session, name, "terminal")
        assert officer is not None
        token = await officers.new_link(session, officer)
        await session.commit()
    return officers.signin_link("http://127.0.0.1", token)
