"""The questions of the resident's request dialog and which one comes next (the dialog in
bot.services.request, its questions in bot.views.resident, the buttons' shapes in bot.views.callbacks).

The next question is always the first one whose answer the draft lacks, so no button, however old,
can skip a question: the summary (with Confirm) comes only when every field is there. "When" is
not a question: the summary's confirm buttons carry it ("✅ Today", "✅ Tomorrow"), or "Another time"
asks for it (``when_text``); an emergency is now.
"""

from __future__ import annotations

from typing import Any

EMERGENCY = "emergency"
STEPS = ("category", "description", "community", "building", "detail", "contact")
# A building leader ordering for a neighbour: the building gives the address; the neighbour's
# name and phone are typed (they have no Telegram to share a contact from).
NEIGHBOUR_STEPS = ("category", "description", "detail", "neighbour", "contact")
# An emergency asks only what happened, where (one short answer) and a phone.
EMERGENCY_STEPS = ("category", "description", "where", "contact")
# Steps the edit menu may reopen (callback data names them).
EDITABLE = ("category", "description", "community", "building", "detail", "where", "neighbour", "contact")
# Steps that wait for a button, not for typed text.
BUTTON_STEPS = frozenset({"category", "summary", "edit"})
# The summary's confirm choices: a day, the typed time ("set"), or now (an emergency).
WHEN_CHOICES = ("today", "tomorrow", "set", "now")
DAYS = {"today": 0, "tomorrow": 1}


def is_emergency(draft: dict[str, Any]) -> bool:
    return draft.get("category") == EMERGENCY


def steps_for(draft: dict[str, Any]) -> tuple[str, ...]:
    if is_emergency(draft):
        return EMERGENCY_STEPS
    return NEIGHBOUR_STEPS if draft.get("on_behalf") else STEPS


def answered(draft: dict[str, Any], step: str) -> bool:
    """Whether the draft holds the answer of ``step``."""
    if step == "description":
        return bool(draft.get("description") or draft.get("voice_file_id") or draft.get("photo_file_id"))
    if step == "where":
        return bool(draft.get("detail"))
    if step == "neighbour":
        return bool(draft.get("contact_name"))
    if step == "contact":
        return bool(draft.get("contact_phone")) and "contact_name" in draft
    return bool(draft.get(step))


def next_step(draft: dict[str, Any]) -> str:
    """The first question the draft has no answer for, else ``summary``."""
    return next((step for step in steps_for(draft) if not answered(draft, step)), "summary")


def complete(draft: dict[str, Any]) -> bool:
    """Every field an order needs is there (the time is given by the confirm button)."""
    return next_step(draft) == "summary"


def confirm_choices(draft: dict[str, Any]) -> tuple[str, ...]:
    """The confirm buttons the summary shows for this draft."""
    if is_emergency(draft):
        return ("now",)
    return ("set",) if draft.get("when") else ("today", "tomorrow")
