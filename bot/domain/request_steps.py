"""The questions of the resident's request dialog, in order (the dialog in bot.services.request,
its questions in bot.views.resident, the edit buttons' callback shape in bot.views.callbacks)."""

from __future__ import annotations

STEPS = ("category", "description", "community", "building", "detail", "when", "contact")
# A building leader ordering for a neighbour: the building gives the address; the neighbour's
# name and phone are typed (they have no Telegram to share a contact from).
NEIGHBOUR_STEPS = ("category", "description", "detail", "when", "neighbour", "contact")
