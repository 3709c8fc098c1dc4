"""``python -m bot`` is ``volunteer-loop``."""

import sys

from bot.cli import main

sys.exit(main())
