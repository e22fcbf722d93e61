"""/stats (admins): users, interviews and verdicts, the most frequent flags, the clusters,
the events and their satisfaction. The same text is printed by ``patentbot stats``."""

from __future__ import annotations

from collections import Counter
from html import escape

from sqlmodel.ext.asyncio.session import AsyncSession

from forms.definition import Form
from handlers.kernel import render
from handlers.kernel.commands import Command
from handlers.kernel.context import Turn
from handlers.kernel.types import Reply
from handlers.training.service import Report, load_report
from locales import LANGUAGE_NAMES, LOCAL_TIME, N_, Translator
from models import audiences, queries, statistics
from models.tables import TrainingEvent, utcnow

# The question the applications are broken down by: the industry cluster (E1a). A call
# without it simply has no such section.
BY_QUESTION = "cluster"
TOP_FLAGS = 5
TOP_CLUSTERS = 10
TOP_EVENTS = 5
FLAG_TITLE_LENGTH = 48


def _verdicts(t: Translator, verdicts: Counter[str]) -> str:
    return t(
        "stats.verdicts",
        eligible=t.number(verdicts["eligible"]),
        points=t.number(verdicts["eligible_with_points"]),
        not_eligible=t.number(verdicts["not_eligible"]),
    )


def cluster_label(t: Translator, form: Form, value: str) -> str:
    """An answer to the cluster question in words (chat HTML)."""
    if not form.has_question(BY_QUESTION):
        return escape(value)
    option = form.question(BY_QUESTION).option(value)
    return t(option.label) if option else escape(value)


async def latest_events(session: AsyncSession, form: Form) -> list[tuple[TrainingEvent, Report]]:
    """The newest events, each with its satisfaction against the target (overall item)."""
    return [
        (event, await load_report(session, form, event, overall_only=True))
        for event, _ in await queries.events_with_counts(session, TOP_EVENTS)
    ]


async def stats_text(session: AsyncSession, form: Form, t: Translator) -> str:
    """Everything /stats says, as chat HTML."""
    o = await statistics.overview(session, form.id, BY_QUESTION)
    languages = " · ".join(
        t("stats.language_item", language=LANGUAGE_NAMES.get(code, code), count=t.number(n))
        for code, n in sorted(o.by_language.items(), key=lambda item: -item[1])
    )
    lines = [
        t("stats.title", time=t.datetime(utcnow().astimezone(LOCAL_TIME))),
        t.plural(
            "stats.users",
            "stats.users.plural",
            o.users,
            languages=languages or "—",
            unreachable=t.number(o.unreachable),
        ),
        t("stats.interviews", started=t.number(o.started), finished=t.number(o.finished)),
        _verdicts(t, o.verdicts),
        "",
        render.bold(t("stats.flags_title")),
    ]
    flags = (await audiences.flag_counts(session, form.id))[:TOP_FLAGS]
    lines += [
        t(
            "stats.flag_line",
            icon=render.SEVERITY_ICONS.get(flag.severity, ""),
            clause=flag.clause,
            title=escape(render.flag_title(t, form, flag, FLAG_TITLE_LENGTH)),
            count=t.number(n),
        )
        for flag, n in flags
    ] or [t("stats.nothing")]
    if form.has_question(BY_QUESTION):
        lines += ["", render.bold(t("stats.clusters_title"))]
        ranked = sorted(o.clusters.items(), key=lambda item: -sum(item[1].values()))
        lines += [
            t(
                "stats.cluster_line",
                cluster=cluster_label(t, form, value),
                total=t.number(sum(verdicts.values())),
                eligible=t.number(verdicts["eligible"] + verdicts["eligible_with_points"]),
            )
            for value, verdicts in ranked[:TOP_CLUSTERS]
        ] or [t("stats.nothing")]
    lines += ["", render.bold(t("stats.events_title"))]
    events = await latest_events(session, form)
    for event, report in events:
        rate = report.overall.rate
        met = "" if report.met is None else ("✅" if report.met else "❌")
        lines.append(
            t.plural(
                "stats.event_line",
                "stats.event_line.plural",
                report.valid,
                date=t.date(event.event_date),
                title=escape(event.title),
                rate=t.percent(rate, digits=1) if rate is not None else "—",
                met=met,
            )
        )
    if not events:
        lines.append(t("stats.nothing"))
    return "\n".join(lines)


async def command(turn: Turn) -> list[Reply]:
    return [Reply(await stats_text(turn.session, turn.form, turn.t))]


COMMAND = Command("stats", N_("command.stats"), command, admin=True)
