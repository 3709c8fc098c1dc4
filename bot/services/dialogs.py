"""Free input (text, voice, contact) goes to whichever dialog the person is in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.inputs import Input
from bot.services import claim, dispatch, rating, registration, request
from bot.services.context import Call

StepHandler = Callable[[Call, str, dict[str, Any], Input], Awaitable[None]]


async def _reject(call: Call, step: str, data: dict[str, Any], inp: Input) -> None:
    await dispatch.input_for_reject(call, data, inp)


async def _hours(call: Call, step: str, data: dict[str, Any], inp: Input) -> None:
    await claim.input_for_hours(call, data, inp)


async def _comment(call: Call, step: str, data: dict[str, Any], inp: Input) -> None:
    await rating.input_for_comment(call, data, inp)


FLOWS: dict[str, StepHandler] = {
    request.FLOW: request.handle_input,
    registration.FLOW: registration.join_input,
    registration.PROFILE_FLOW: registration.profile_input,
    "reject": _reject,
    "hours": _hours,
    "comment": _comment,
}


async def handle_input(call: Call, inp: Input) -> bool:
    """Feed ``inp`` to the person's open dialog; False when they are in none."""
    dialog = await call.uow.dialogs.get(call.user.id)
    if dialog is None or dialog.flow not in FLOWS:
        return False
    await FLOWS[dialog.flow](call, dialog.step, dict(dialog.data), inp)
    return True
