"""What the command modules share: the table of subcommands each adds its parsers to.

Each parser sets what its command does with ``set_defaults(run=...)``: an async function of
the settings and the parsed arguments that returns the text to print (None: nothing).
"""

from __future__ import annotations

import argparse
from typing import TypeAlias

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
