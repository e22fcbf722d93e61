"""What the broadcast tests share: users in every audience, a sender in memory, waiting
for a job to end."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.kernel.types import Reply, Sent
from models import broadcast_jobs
from models.tables import (
    Answer,
    Application,
    Broadcast,
    Channel,
    Flag,
    TrainingEvent,
    User,
    utcnow,
)

PROGRAMME = "nansha-2024"
# A deployment with Telegram: its users by Telegram, web visitors in their inbox.
ROUTES = frozenset({Channel.TELEGRAM, Channel.WEB})


@dataclass
class Population:
    """Users placed in known audiences."""

    eligible: list[int] = field(default_factory=list)  # latest submission eligible
    points: list[int] = field(default_factory=list)  # eligible with points (rd_ratio_low)
    not_eligible: list[int] = field(default_factory=list)  # prior_project
    unfinished: list[int] = field(default_factory=list)
    attendees: list[int] = field(default_factory=list)
    idle: list[int] = field(default_factory=list)  # started the bot, nothing else
    unreachable: list[int] = field(default_factory=list)
    event_id: int = 0

    @property
    def everyone(self) -> list[int]:
        return [
            *self.eligible,
            *self.points,
            *self.not_eligible,
            *self.unfinished,
            *self.attendees,
            *self.idle,
        ]


async def populate(
    sessions: async_sessionmaker[AsyncSession], start: int = 10_000, each: int = 2
) -> Population:
    """``each`` users per kind (locales alternate zh_CN / en), plus one unreachable user."""
    population = Population()
    ids = itertools.count(start)
    locales = itertools.cycle(["zh_CN", "en"])
    async with sessions() as session:
        event = TrainingEvent(
            code="evt001",
            title="知识产权培训",
            event_date=date(2024, 10, 8),
            place="南沙",
            survey_id="training-satisfaction",
            created_by=999,
        )
        session.add(event)
        await session.flush()
        assert event.id is not None
        population.event_id = event.id

        def user(kind: list[int], *, unreachable: bool = False) -> int:
            user_id = next(ids)
            session.add(
                User(
                    id=user_id,
                    chat_id=user_id,
                    locale=next(locales),
                    unreachable_at=utcnow() if unreachable else None,
                )
            )
            kind.append(user_id)
            return user_id

        async def application(
            user_id: int, status: str, verdict: str | None, version: int = 1, **extra: object
        ) -> Application:
            row = Application(
                user_id=user_id,
                programme_id=PROGRAMME,
                programme_version=1,
                version=version,
                status=status,
                verdict=verdict,
                submitted_at=utcnow() if status == "submitted" else None,
                figures={"rd_ratio_3y": "0.0513", "ip_ratio": "0.05"},
                **extra,  # type: ignore[arg-type]
            )
            session.add(row)
            await session.flush()
            return row

        for _ in range(each):
            a = await application(user(population.eligible), "submitted", "eligible")
            assert a.id is not None
            session.add(Answer(application_id=a.id, question_id="cluster", value="robotics"))
            session.add(
                Answer(application_id=a.id, question_id="enterprise_name", value="=1+1 公司")
            )
            p = await application(user(population.points), "submitted", "eligible_with_points")
            assert p.id is not None
            session.add(_flag(p.id, "rd_ratio_low", "warning", "E2a"))
            n_user = user(population.not_eligible)
            # An older eligible submission does not count: the latest one does.
            await application(n_user, "submitted", "eligible", version=1)
            n = await application(n_user, "submitted", "not_eligible", version=2)
            assert n.id is not None
            session.add(_flag(n.id, "prior_project", "disqualify", "X1"))
            await application(user(population.unfinished), "in_progress", None)
            attendee = user(population.attendees)
            await application(attendee, "submitted", None, event_id=event.id)
            user(population.idle)
        user(population.unreachable, unreachable=True)
        await session.commit()
    return population


def _flag(application_id: int, rule_id: str, severity: str, clause: str) -> Flag:
    values = (
        {
            "rd_ratio_3y": ["percent", "0.02"],
            "rd_ratio_min": ["percent", "0.03"],
            "rd_total": ["number", "100"],
            "revenue_total": ["number", "5000"],
        }
        if rule_id == "rd_ratio_low"
        else {}
    )
    return Flag(
        application_id=application_id,
        rule_id=rule_id,
        severity=severity,
        clause=clause,
        message_key=f"flag.{rule_id}",
        values=values,
    )


class MemorySender:
    """A Sender that keeps what it was asked to send; failures can be queued per chat."""

    def __init__(self) -> None:
        self.sent: dict[int, list[Reply]] = defaultdict(list)
        self.edits: list[tuple[int, int, Reply, float]] = []
        self.times: dict[int, list[float]] = defaultdict(list)  # every send and edit, per chat
        self.failures: dict[int, list[Exception]] = defaultdict(list)
        self.hang_before: set[int] = set()  # chats whose send never returns (not delivered)
        self.hang_after: set[int] = set()  # … delivered, but the answer never comes back
        self.hanging = asyncio.Event()
        self.commands: dict[tuple[int | None, str], list[tuple[str, str]]] = {}
        self._ids = itertools.count(1)

    async def send(self, chat_id: int, reply: Reply) -> Sent:
        self.times[chat_id].append(time.monotonic())
        if self.failures[chat_id]:
            raise self.failures[chat_id].pop(0)
        if chat_id in self.hang_before:
            self.hanging.set()
            await asyncio.Event().wait()
        self.sent[chat_id].append(reply)
        if chat_id in self.hang_after:
            self.hanging.set()
            await asyncio.Event().wait()
        file_id = "FILE-ID" if reply.photo or reply.document else None
        return Sent(next(self._ids), file_id)

    async def edit(self, chat_id: int, message_id: int, reply: Reply) -> None:
        self.times[chat_id].append(time.monotonic())
        self.edits.append((chat_id, message_id, reply, time.monotonic()))

    async def set_commands(
        self, chat_id: int | None, language_code: str, commands: Sequence[tuple[str, str]]
    ) -> None:
        self.commands[(chat_id, language_code)] = list(commands)

    def received(self, chat_id: int) -> int:
        return len(self.sent.get(chat_id, []))


async def wait_for_status(
    sessions: async_sessionmaker[AsyncSession],
    broadcast_id: int,
    statuses: tuple[str, ...] = (broadcast_jobs.DONE,),
    timeout: float = 20,
) -> Broadcast:
    deadline = time.monotonic() + timeout
    while True:
        async with sessions() as session:
            job = await broadcast_jobs.get_broadcast(session, broadcast_id)
        if job is not None and job.status in statuses:
            return job
        state = job.status if job else "not created"
        assert time.monotonic() < deadline, f"broadcast {broadcast_id} still {state}"
        await asyncio.sleep(0.05)


async def recipient_states(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: int
) -> dict[int, tuple[str, str | None]]:
    """user id → (state, error)."""
    from sqlmodel import select

    from models.tables import BroadcastRecipient

    async with sessions() as session:
        rows = (
            await session.exec(
                select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast_id)
            )
        ).all()
    return {r.user_id: (r.state, r.error) for r in rows}
