"""What the fuzzer throws at the bot: where an input lands (a question of a form, or the
broadcast composer) and the Hypothesis strategies that draw it — odd characters, numbers
at and past their limits, dates, forged and stale button data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import strategies as st

from forms.definition import Form, Question, admin_form, linked
from locales import SUPPORTED, translator

BROADCAST = "broadcast"


@dataclass(frozen=True)
class Target:
    """Where a random input lands: a question of a form, or the broadcast composer."""

    flow: str  # interview | details | survey | event | broadcast
    question: Question | None = None

    def __str__(self) -> str:
        return f"{self.flow}:{self.question.id if self.question else 'message'}"


def targets(form: Form) -> list[Target]:
    forms = {
        "interview": form,
        "details": linked(form, "draft_details"),
        "survey": linked(form, "survey"),
        "event": admin_form("event"),
    }
    found = [Target(flow, q) for flow, f in forms.items() for q in f.questions]
    return [*found, Target(BROADCAST)]


# ------------------------------------------------------------------ the inputs

ODD_CHARACTERS = [
    "👍", "🇨🇳", "👨‍👩‍👧", "\u200f", "\u200e", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff",
    "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\r", "\n", "\t", "\ue000",
    "１", "２", "０", "．", "，", "－", "＋", "Ａ", "ｍ", "　", "万", "萬", "元", "年", "月", "日",
    "<", ">", "&", "&amp;", "<b>", "</i>", "{", "}", "{0}", "%s", "\\", "'", '"', "`",
]  # fmt: skip
_odd_text = st.lists(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from(ODD_CHARACTERS)), max_size=40
).map("".join)
_long_text = st.builds(
    lambda piece, times: (piece * times)[:10_000],
    st.text(min_size=1, max_size=20),
    st.integers(min_value=1, max_value=10_000),
)


def _numbers(question: Question | None) -> st.SearchStrategy[str]:
    """Numbers at and beyond the question's limits, written the ways people write them."""
    limits = [Decimal(0), Decimal(20), Decimal(100_000_000), Decimal(10_000)]
    if question is not None:
        limits += [Decimal(str(v)) for v in (question.min, question.max) if v is not None]
    steps = [Decimal(0), Decimal(1), Decimal("0.0001"), Decimal("0.00001"), Decimal("1e20")]
    near = st.builds(
        lambda limit, step, sign: limit + sign * step,
        st.sampled_from(limits),
        st.sampled_from(steps),
        st.sampled_from([-1, 1]),
    )
    written = st.builds(
        lambda n, style: style(n),
        st.one_of(near, st.decimals(allow_nan=True, allow_infinity=True)),
        st.sampled_from([
            str,
            lambda n: f"{n:,}" if n.is_finite() else str(n),
            lambda n: str(n).translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－")),
            lambda n: f"{n}万元",
            lambda n: f" {n} ",
            lambda n: f"{n:e}" if n.is_finite() else str(n),
        ]),
    )  # fmt: skip
    return st.one_of(written, st.integers().map(str), st.floats().map(str))


_dates = st.one_of(
    st.builds(
        lambda y, m, d, sep: f"{y}{sep}{m}{sep}{d}",
        st.integers(0, 10_000),
        st.integers(0, 13),
        st.integers(0, 32),
        st.sampled_from(["-", "/", ".", ""]),
    ),
    st.builds(
        lambda d, h, m: f"{d} {h}:{m:02d}", st.dates().map(str), st.integers(0, 25),
        st.integers(0, 61),
    ),
    st.sampled_from(["2024年2月30日", "20240230", "2024-13-01", "9999-12-31 23:59", "今天"]),
)  # fmt: skip


def texts(question: Question | None) -> st.SearchStrategy[str]:
    kinds = [_odd_text, _long_text, _numbers(question), _dates]
    if question is not None:
        options = [o.id for o in question.options] + [
            translator(loc)(o.label) for o in question.options for loc in SUPPORTED
        ]
        if options:
            kinds.append(st.sampled_from(options))
        kinds.append(st.sampled_from(["91440115MA59X0001Q", "91440115MA59X0001", "138 0013 8000"]))
    return st.one_of(kinds)


# The bot's other buttons' kinds, and values they take or look like.
OTHER_KINDS = ["lang", "draft", "result", "restart", "sv", "bc", "ev", "menu", "submit",
               "confirm", "delete"]  # fmt: skip
OTHER_VALUES = ["change:1", "change:x", "details", "now", "list", "new", "show:1", "aud:all",
                "aud:event:", "aud:flag:x", "send", "back", "drop", "pause:1:s", "cancel:999:l",
                "interview", "survey", "no", "help", "cancel", "apply", "zh_CN", "xx"]  # fmt: skip


def buttons(forms: list[Form]) -> st.SearchStrategy[str]:
    """Forged or stale button data: any bytes Telegram carries (up to 64), and the shapes
    the bot's buttons have with ids and values of any question of any form."""
    qids = [*sorted({q.id for f in forms for q in f.questions}), "", "x"]
    values = sorted({o.id for f in forms for q in f.questions for o in q.options})
    values += ["", "1", "0", "-1", "99999999999999999999", "yes", "no"]
    shaped = st.builds(
        lambda kind, qid, value: f"{kind}:{qid}:{value}",
        st.sampled_from(["a", "g", "back", "keep", "skip", "edit", "confirm", "submit"]),
        st.sampled_from(qids),
        st.one_of(st.sampled_from(values), _odd_text),
    )
    others = st.builds(
        lambda kind, value: f"{kind}:{value}",
        st.sampled_from(OTHER_KINDS),
        st.one_of(st.sampled_from(OTHER_VALUES), _odd_text),
    )
    return st.one_of(shaped, others, st.text(max_size=64)).map(lambda d: d[:64])


@dataclass(frozen=True)
class Input:
    text: str | None = None  # typed
    data: str | None = None  # a pressed button's data


def own_buttons(question: Question) -> st.SearchStrategy[str]:
    """The question's own buttons with forged values: what a stale keyboard or a
    tampered client sends while the question is asked."""
    own = [o.id for o in question.options] + [g.id for g in question.groups]
    values = [*own, "", "1", "0", "2", "x"]
    return st.builds(
        lambda kind, value: f"{kind}:{question.id}:{value}"[:64],
        st.sampled_from(["a", "g", "back", "keep", "skip", "edit"]),
        st.one_of(st.sampled_from(values), _odd_text),
    )


def inputs(target: Target, forms: list[Form]) -> st.SearchStrategy[Input]:
    typed = texts(target.question).map(lambda s: Input(text=s))
    pressed = [buttons(forms)]
    if target.question is not None:
        pressed.append(own_buttons(target.question))
    button = st.one_of(pressed).map(lambda d: Input(data=d))
    # One in three a button: one_of alone leans on its first branch.
    return st.sampled_from([typed, typed, button]).flatmap(lambda kind: kind)


# ------------------------------------------------------------------ what must hold
