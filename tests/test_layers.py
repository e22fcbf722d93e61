"""The floors of the house are checked, not only described: the import contracts in
pyproject.toml (``[tool.importlinter]``) hold for the code as it is."""

from __future__ import annotations

import logging

from importlinter.cli import lint_imports


def test_no_import_runs_back_up_a_floor() -> None:
    existing = logging.root.manager.loggerDict.values()
    enabled = [log for log in existing if isinstance(log, logging.Logger) and not log.disabled]
    try:
        # A broken contract prints the chain of imports that breaks it.
        assert lint_imports(no_cache=True) == 0
    finally:
        # import-linter configures its logging with dictConfig, which disables every
        # logger already made: the later tests that read the bot's log would read nothing.
        for log in enabled:
            log.disabled = False
