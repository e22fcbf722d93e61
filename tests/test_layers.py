"""The floors of the house are checked, not only described: the import contracts in
pyproject.toml (``[tool.importlinter]``) hold for the code as it is."""

from __future__ import annotations

from importlinter.cli import lint_imports


def test_no_import_runs_back_up_a_floor() -> None:
    # A broken contract prints the chain of imports that breaks it.
    assert lint_imports(no_cache=True) == 0
