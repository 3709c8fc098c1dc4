"""Telegram adapters: each module turns updates of one flow into service calls.

Every module exposes ``register(application)`` (commands and messages) and ``CALLBACKS``
(button action → coroutine); :func:`register_all` wires them, each registration naming its
handler group (:mod:`bot.adapters.handlers.handler_groups`): the order below matters within a group.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.adapters.handlers import (
    activities,
    attendance,
    buildings,
    buttons,
    claim,
    dispatch,
    groups,
    guard,
    hours,
    lists,
    menu,
    people,
    points,
    privacy,
    private_input,
    private_only,
    quiet,
    rating,
    recognition,
    registration,
    report,
    request,
    roster,
    routes,
    start,
    teams,
)

FLOW_MODULES = (start, request, dispatch, routes, claim, rating, people, registration, teams, buildings, roster, quiet,
                hours, report, groups, lists, attendance, menu, activities, recognition, points,
                privacy)


def register_all(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    guard.register(application)  # first: updates no flow can act on never reach one
    callbacks = {}
    for module in FLOW_MODULES:
        module.register(application)
        callbacks.update(module.CALLBACKS)
    private_only.register(application)  # after the flows: the commands they take only privately
    buttons.register(application, callbacks)
    private_input.register(application)  # last: free text that no command or menu button took
