"""The floors of the house are checked, not only described: the import contracts in
pyproject.toml (``[tool.importlinter]``) hold for the code as it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_no_import_runs_back_up_a_floor() -> None:
    # In a process of its own: import-linter sets up logging with dictConfig, which disables
    # every logger made before (the bot's), and later tests read those loggers' records.
    lint_imports = Path(sys.executable).with_name("lint-imports")
    linted = subprocess.run(
        [str(lint_imports), "--no-cache"], capture_output=True, text=True, timeout=120
    )
    # A broken contract prints the chain of imports that breaks it.
    assert linted.returncode == 0, linted.stdout + linted.stderr
