"""The roles a person can hold, and the key that remembers which roles (and language) their
private chat's menu and keyboard were last set for (``users.menu_roles``).

Pure names: :mod:`bot.services.roles` decides who holds which role; the views read the key to draw
the keyboard of the roles it names, so the keyboard and the command menu never disagree.
"""

from __future__ import annotations

ADMIN, COORDINATOR, TEAM_LEADER, BUILDING_LEADER = "admin", "coordinator", "team_leader", "building_leader"
VOLUNTEER, BUSINESS, RESIDENT = "volunteer", "business", "resident"
ROLES = (ADMIN, COORDINATOR, TEAM_LEADER, BUILDING_LEADER, VOLUNTEER, BUSINESS, RESIDENT)


def menu_key(roles: frozenset[str], language: str) -> str:
    return language + ":" + ",".join(r for r in ROLES if r in roles)


def roles_in_key(key: str | None) -> frozenset[str]:
    """The roles a :func:`menu_key` names; a resident's for an empty (never set) key."""
    named = (key or "").partition(":")[2].split(",")
    return frozenset(r for r in named if r in ROLES) | {RESIDENT}
