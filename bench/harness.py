"""What every benchmark of the bot as a process needs: the bot spawned as in production
with its log kept, its CPU and peak memory read from /proc, a fresh PostgreSQL database,
the commit measured, and the percentile the figures are given in."""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import math
import os
import platform
import secrets
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from testkit.fake_bot_api import BotMessage, FakeBotAPI, FakeUser

TOKEN = "123456:BENCH-TOKEN"
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def compile_tree() -> None:
    """The project's bytecode, as a deployed bot has it after its first start (or a pip
    install): a machine that sets PYTHONDONTWRITEBYTECODE (this one does) otherwise
    compiles every module again at each start, which no deployment does, and the start
    measured would be that compilation."""
    root = BENCH_DIR.parent
    for package in ("bot", "handlers", "forms", "models", "locales"):
        compileall.compile_dir(root / package, quiet=1)


def read_status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had (kB in /proc)."""
    return int(read_status(pid)["VmHWM"].split()[0]) / 1024


def cpu_seconds(stat_path: str) -> float:
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuSample:
    total: float  # all threads of the process
    threads: dict[str, float]  # "tid name" -> seconds

    @staticmethod
    def of(pid: int) -> CpuSample:
        threads = {}
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                name = Path(f"/proc/{pid}/task/{task}/comm").read_text().strip()
                threads[f"{task} {name}"] = cpu_seconds(f"/proc/{pid}/task/{task}/stat")
        return CpuSample(cpu_seconds(f"/proc/{pid}/stat"), threads)


@dataclass
class BotProcess:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def count_in_log(self, needle: str) -> int:
        try:
            with open(self.log_path, errors="replace") as f:
                return sum(needle in line for line in f)
        except OSError:
            return 0

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGINT (aiogram stops polling and the process exits), then SIGKILL."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await asyncio.wait_for(self.process.wait(), 5)
        return self.process.returncode


async def spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> BotProcess:
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=workdir,  # no .env of the checkout is read; files land in the temp dir
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    return BotProcess(name, process, log_path)


def child_env(server: FakeBotAPI, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        BOT_API_SERVER=server.base_url,
        WEB_LISTEN="off",  # Telegram only: no web chat taking port 8080
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH_DIR.parent), env.get("PYTHONPATH")])),
        **extra,
    )
    return env


async def wait_ready(
    bot: BotProcess,
    probe: FakeUser,
    text: str,
    accept: Callable[[BotMessage], bool],
    timeout: float,
) -> float:
    """Send a probe message until the bot answers it: it is polling. Returns seconds waited."""
    started = time.perf_counter()
    await probe.send(text)
    deadline = started + timeout
    while (remaining := deadline - time.perf_counter()) > 0:
        if bot.process.returncode is not None:
            raise RuntimeError(
                f"{bot.name} exited with {bot.process.returncode} before polling:\n"
                + bot.log_tail()
            )
        with contextlib.suppress(AssertionError):
            message = await probe.next_message(timeout=min(0.5, remaining))
            if accept(message):
                return time.perf_counter() - started
    raise RuntimeError(f"{bot.name} did not answer within {timeout:.0f}s:\n{bot.log_tail()}")


async def wait_listening(bot: BotProcess, port: int, timeout: float) -> None:
    """Until ``bot`` accepts connections on 127.0.0.1:``port``: behind a load balancer a
    probe's answer tells only that one of the processes is up, not which."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if bot.process.returncode is not None:
            raise RuntimeError(
                f"{bot.name} exited with {bot.process.returncode} before listening:\n"
                + bot.log_tail()
            )
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(
        f"{bot.name} did not listen on {port} within {timeout:.0f}s:\n" + bot.log_tail()
    )


async def create_pg_database(base_url: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"patentbot_bench_{secrets.token_hex(4)}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncio.wait_for(asyncpg.connect(dsn), 10)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()

    async def drop() -> None:
        connection = await asyncio.wait_for(asyncpg.connect(dsn), 10)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    return url.set(database=name).render_as_string(hide_password=False), drop


@contextlib.asynccontextmanager
async def fresh_database(
    kind: str, folder: Path, name: str, pg_url: str = DEFAULT_PG
) -> AsyncIterator[str]:
    """A new database for one run, its URL as people write it: a PostgreSQL database
    (``kind`` "postgresql") dropped when the block ends, or SQLite file ``name`` in
    ``folder``."""
    if kind != "postgresql":
        yield f"sqlite:///{folder / name}"
        return
    url, drop = await create_pg_database(pg_url)
    try:
        yield url
    finally:
        await drop()


def code_version() -> str:
    """The commit measured (``-dirty`` with uncommitted changes), or where the code is."""
    import subprocess

    try:
        described = subprocess.run(
            ["git", "-C", str(BENCH_DIR.parent), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return described.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return str(BENCH_DIR.parent)


def run_meta() -> dict[str, str]:
    """What a report names first: the code measured, when, on what."""
    return {
        "code": code_version(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{os.cpu_count()} cores {platform.machine()}",
        "python": platform.python_version(),
    }


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0-100) of ``values``; NaN for none."""
    data = sorted(values)
    if not data:
        return float("nan")
    return data[min(len(data) - 1, max(0, math.ceil(q / 100 * len(data)) - 1))]
