"""``python -m bot`` is ``volunteer-loop``."""

import sys

from .cli import main

sys.exit(main())
