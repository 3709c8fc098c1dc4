"""PTB handler groups, in one place. PTB offers an update to each group in turn (lowest first) and
runs at most one handler per group: the first whose filters match, in registration order.

The guard has a group of its own, before every other: it matches every update and stops the ones
no flow can act on. Everything else shares one group on purpose, so that exactly one handler runs:
the flows' commands, menu buttons, files and membership changes first, then the buttons (callback
queries, which no flow handler matches), and free input last — text that no command or menu
button took (``bot.adapters.handlers.register_all`` registers them in that order).
"""

from __future__ import annotations

GUARD = -100
FLOWS = 0
BUTTONS = FLOWS  # callback queries only: no flow handler matches one
FREE_INPUT = FLOWS  # registered last in the group: the fallback for private messages
