"""The request dialog's next question is the first the draft has no answer for: no button can skip
one, and the summary (with Confirm) comes only with every field there."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.request_steps import complete, confirm_choices, next_step

FULL = {"category": "repair", "description": "leak", "community": "东湖社区", "building": "3号楼", "detail": "402室",
        "contact_phone": "+8613800000001", "contact_name": "Rita"}


@pytest.mark.parametrize(("draft", "step"), [
    ({}, "category"),
    ({"when": "2026-12-03"}, "category"),  # an old "Tomorrow" answers no question
    ({"category": "repair", "when": "2026-12-03"}, "description"),
    ({"category": "repair", "voice_file_id": "v"}, "community"),
    ({"category": "repair", "photo_file_id": "p", "community": "东湖社区", "building": "3号楼"}, "detail"),
    ({**FULL, "contact_phone": ""}, "contact"),
    (FULL, "summary"),
    ({"category": "emergency", "description": "fell"}, "where"),
    ({"category": "emergency", "description": "fell", "detail": "3号楼402室"}, "contact"),
    ({"category": "emergency", "voice_file_id": "v", "detail": "x", "contact_phone": "+86138", "contact_name": ""},
     "summary"),
    ({"on_behalf": True, "category": "repair", "description": "d", "community": "c", "building": "b",
      "detail": "501"}, "neighbour"),
])
def test_the_next_question_is_the_first_unanswered(draft: dict[str, Any], step: str) -> None:
    assert next_step(draft) == step
    assert complete(draft) == (step == "summary")


def test_the_confirm_buttons_say_when() -> None:
    assert confirm_choices(FULL) == ("today", "tomorrow")
    assert confirm_choices({**FULL, "when": "周六上午"}) == ("set",)
    assert confirm_choices({**FULL, "category": "emergency", "when": "周六上午"}) == ("now",)
