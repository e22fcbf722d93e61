"""Random input at every question of every form (testkit/fuzz.py says what must hold); a
fast profile here, 100,000 examples in bench/fuzz.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testkit.fuzz import Fuzzer
from testkit.fuzz_inputs import Input, inputs, targets

# Bounded for the suite: every question is reached by the fixed inputs below, the random
# ones spread over them. No deadline: the machine is shared, a slow example is no failure.
FAST = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NASTY = ("\u202e\u200b👨‍👩‍👧\x00\x1b[31m<b>{0}</b>&amp;１２３\u3000" * 400)[:10_000]


@pytest.mark.timeout(600)  # a few hundred examples; the machine may be busy
def test_random_input_at_every_question_stores_nothing_wrong(tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        fuzzer = runner.run(Fuzzer.start(tmp_path / "fuzz.db"))
        every = targets(fuzzer.form)
        assert {t.flow for t in every} == {"interview", "details", "survey", "event", "broadcast"}
        try:
            for target in every:
                qid = target.question.id if target.question else "x"
                for fixed in (Input(text=NASTY), Input(text="9" * 40), Input(data=f"a:{qid}:9")):
                    runner.run(fuzzer.attempt(target, fixed))

            @FAST
            @given(st.data())
            def example(data: st.DataObject) -> None:
                target = data.draw(st.sampled_from(every), label="target")
                runner.run(fuzzer.attempt(target, data.draw(inputs(target, fuzzer.forms))))

            example()
        finally:
            runner.run(fuzzer.stop())
