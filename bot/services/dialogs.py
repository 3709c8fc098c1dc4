"""Free input (text, voice, contact) goes to whichever dialog the person is in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.inputs import Input
from bot.services import (
    activities,
    activity_dialog,
    claim,
    dispatch,
    hours,
    points,
    rating,
    registration,
    report,
    request,
)
from bot.services.context import ServiceContext

StepHandler = Callable[[ServiceContext, str, dict[str, Any], Input], Awaitable[None]]


async def _reject(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    await dispatch.input_for_reject(ctx, data, inp)


async def _hours(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    await claim.input_for_hours(ctx, data, inp)


async def _comment(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    await rating.input_for_comment(ctx, data, inp)


FLOWS: dict[str, StepHandler] = {
    request.FLOW: request.handle_input,
    registration.FLOW: registration.join_input,
    registration.PROFILE_FLOW: registration.profile_input,
    "reject": _reject,
    "hours": _hours,
    "comment": _comment,
    activity_dialog.FLOW: activity_dialog.handle_input,
    activities.CHANGE_FLOW: activity_dialog.change_input,
    hours.HONOUR_FLOW: hours.input_for_honour,
    points.FLOW: points.input_for_points,
    report.HOUSEHOLDS_FLOW: report.input_for_households,
}


async def handle_input(ctx: ServiceContext, inp: Input) -> bool:
    """Feed ``inp`` to the person's open dialog; False when they are in none."""
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow not in FLOWS:
        return False
    await FLOWS[dialog.flow](ctx, dialog.step, dict(dialog.data), inp)
    return True
