"""The fuzz test at scale: random input at every question of every form.

    .venv/bin/python -m bench.fuzz [--examples 100000] [--minutes 90] [--batch 1000]

The same harness and checks as tests/chat/test_fuzz.py (testkit/fuzz.py): interview, draft
details, survey, event setup and broadcast composer, through ``Router.handle`` on a
fresh SQLite file in a temporary directory. Hypothesis runs batches of ``--batch``
examples, each batch freshly seeded, until ``--examples`` have run, one fails (it is
shrunk and printed, and the exit status is 1), or ``--minutes`` have passed (then the
count reached is reported: the run is bounded). No network at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testkit.fuzz import Fuzzer
from testkit.fuzz_inputs import inputs, targets


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=90.0, help="stop after this long")
    parser.add_argument("--batch", type=int, default=1000, help="examples per Hypothesis run")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    tree = _describe()  # the code measured is what was imported now
    started = time.monotonic()
    stop_at = started + args.minutes * 60
    ran: Counter[str] = Counter()  # examples by flow
    kinds: Counter[str] = Counter()  # typed text or pressed button
    failure = ""
    # In memory where the machine has it: the checks are the point, not the disk's fsync.
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=memory) as folder, asyncio.Runner() as runner:
        fuzzer = runner.run(Fuzzer.start(Path(folder) / "fuzz.db"))
        every = targets(fuzzer.form)
        try:
            while sum(ran.values()) < args.examples and time.monotonic() < stop_at:
                batch = min(args.batch, args.examples - sum(ran.values()))

                @settings(
                    max_examples=batch,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                @given(st.data())
                def example(data: st.DataObject) -> None:
                    target = data.draw(st.sampled_from(every), label="target")
                    given_input = data.draw(inputs(target, fuzzer.forms), label="input")
                    runner.run(fuzzer.attempt(target, given_input))
                    ran[target.flow] += 1
                    kinds["text" if given_input.text is not None else "button"] += 1

                before = sum(ran.values())
                try:
                    example()
                except Exception as e:  # the shrunk failing example, printed by Hypothesis
                    failure = f"{type(e).__name__}: {e}"
                    break
                if sum(ran.values()) == before:
                    break  # Hypothesis found nothing more to try
        finally:
            runner.run(fuzzer.stop())
            users = fuzzer.users_made
    elapsed = time.monotonic() - started
    total = sum(ran.values())
    figures = {
        "examples": total,
        "failures": 1 if failure else 0,
        "failure": failure,
        "seconds": round(elapsed, 1),
        "examples_per_second": round(total / elapsed, 1) if elapsed else 0,
        "by_flow": dict(ran),
        "by_input": dict(kinds),
        "users_made": users,  # one per form, and one more whenever an input took one away
        "stopped_by_time": total < args.examples and not failure,
        "python": platform.python_version(),
        "tree": tree,
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return 1 if failure else 0


def _describe() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
