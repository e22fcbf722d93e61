"""``python -m bot.cli``: the operator's entry, as the ``patentbot`` script."""

import sys

from bot.cli import main

sys.exit(main())
