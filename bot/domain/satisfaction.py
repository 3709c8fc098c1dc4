"""Satisfaction in words, stored on the 1–5 scale the reports average.

Residents answer with four buttons (satisfied, mostly, not satisfied, problem not solved); each is
a number on the scale ratings always used, so averages, the monthly report and buttons of earlier
releases (one to five stars) all still read the same. "Not solved" stores no stars and
``solved`` false, as it always did (``0`` on the button).
"""

from __future__ import annotations

SATISFIED, MOSTLY, NOT_SATISFIED, NOT_SOLVED = 5, 4, 2, 0
CHOICES = (SATISFIED, MOSTLY, NOT_SATISFIED, NOT_SOLVED)  # the buttons, in order
POOR = NOT_SATISFIED  # at or below: the request is reopened for the centre


def level(stars: int | None) -> int:
    """The word a stored value (or an old star button's) reads as: one of :data:`CHOICES`."""
    if not stars:
        return NOT_SOLVED
    if stars >= SATISFIED:
        return SATISFIED
    return MOSTLY if stars > POOR else NOT_SATISFIED
