"""Who came to an activity: check-in and check-out on site, presence marked by hand, no-shows
(see :class:`storage.models.ActivitySignup`)."""

from __future__ import annotations

from storage.repositories import _Repository


class AttendanceRepository(_Repository):
    pass
