"""Officers and operators know which database: every terminal command says the one it
used (on stderr, so piped output stays clean), and a sign-in link made on another
database says it is unknown here, not "used or expired"."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url
from yarl import URL

from bot.pages.identity import Signer
from handlers.kernel.render import plain
from locales import translator
from testkit.office import Officer
from testkit.telegram import free_port
from testkit.web import WebVisitor
from tests.chat import test_office
from tests.chat.test_postgres import postgres_url  # noqa: F401  (the fixture)
from tests.system.test_cli_serve import environment
from tests.system.test_cli_serve import patentbot as serving_bot
from tests.system.test_events_cli import patentbot

site = test_office.site  # the fixture
t = translator("zh_CN")
SAID = re.compile(plain(t("cli.database", url="")) + r"(\S+)")


def said_database(stderr: str) -> list[str]:
    return SAID.findall(stderr)


def test_every_command_says_its_database_the_sqlite_file_made_absolute(tmp_path: Path) -> None:
    absolute = f"sqlite:///{tmp_path / 'patentbot.db'}"
    commands = [
        ("admins", "add", "王芳"),
        ("admins", "list"),
        ("event", "list"),
        ("report", "nosuch"),
        ("stats",),
        ("broadcast", "list"),
        ("draft", "--application", "1", "--out", "d.docx"),
        ("backup", "copy.db"),
        ("admins", "remove", "王芳"),
    ]
    for argv in commands:
        done = patentbot("sqlite:///patentbot.db", tmp_path, *argv)  # relative: this folder's
        assert said_database(done.stderr) == [absolute], (argv, done.stderr)
        assert "sqlite" not in done.stdout, argv  # piped output stays clean


def test_a_postgresql_password_is_never_shown(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    url = make_url(postgres_url)
    password = url.password or f"pw-{uuid.uuid4().hex[:8]}"  # trust auth takes any
    with_password = url.set(password=password).render_as_string(hide_password=False)
    done = patentbot(with_password, tmp_path, "admins", "list")
    assert done.returncode == 0, done.stderr
    assert said_database(done.stderr) == [url.set(password=password).render_as_string()]
    assert "***" in done.stderr and password not in done.stderr + done.stdout


async def test_a_link_unknown_here_says_so_and_where_to_look(site: URL) -> None:
    browser = Officer(site)
    await browser.get("/office/signin/" + "A" * 32)  # made on another database, say
    assert browser.status == 404
    assert plain(t("office.signin.unknown")) in browser.html
    assert "DATABASE_URL" in browser.html
    signer = Signer(b"test-key")  # as a sign-in page would have given this browser
    nonce = "browser-nonce"
    browser.http.cookie_jar.update_cookies(
        {"patentbot_signin": signer.sign("office-signin-browser", nonce)}, site
    )
    token = signer.token("office-link", f"{'A' * 32}:{nonce}")
    await browser.post("/office/signin", {"link": "A" * 32, "csrf": token}, csrf=False)
    assert browser.status == 404 and plain(t("office.signin.unknown")) in browser.html
    await browser.close()


async def test_the_running_bot_says_its_database_too(tmp_path: Path) -> None:
    env = environment(tmp_path, WEB_LISTEN=f"127.0.0.1:{free_port()}")
    env["DATABASE_URL"] = "sqlite:///bot.db"  # relative: the folder it runs in
    async with serving_bot(tmp_path, env) as address:
        visitor = WebVisitor(address)  # served: the line was printed before, and SIGTERM
        assert (await visitor.get("/")).status == 200  # is the bot's to handle by now
        await visitor.close()
    log = (tmp_path / "patentbot.log").read_text()
    assert said_database(log) == [f"sqlite:///{tmp_path / 'bot.db'}"], log
