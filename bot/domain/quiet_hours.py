"""Per-person quiet hours (``/quiet 22:00-07:00``, ``/quiet off``): non-urgent reminders and
targeted alerts wait until they end (the reminders read :func:`quiet_until`)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot.domain.errors import InvalidInput
from bot.i18n import N_
from bot.services.context import ServiceContext
from storage.models import User

_RANGE = re.compile(r"^([01]?\d|2[0-3])(?::([0-5]\d))?\s*[-–~]\s*([01]?\d|2[0-3])(?::([0-5]\d))?$")
USAGE = N_("Usage: /quiet 22:00-07:00 (in your local time), or /quiet off")


def parse_range(text: str) -> tuple[int, int]:
    """``"22:00-07:00"`` → minutes after midnight ``(1320, 420)``; InvalidInput otherwise."""
    match = _RANGE.match(text.strip())
    if match is None:
        raise InvalidInput(USAGE)
    start = int(match.group(1)) * 60 + int(match.group(2) or 0)
    end = int(match.group(3)) * 60 + int(match.group(4) or 0)
    if start == end:
        raise InvalidInput(USAGE)
    return start, end


Window = tuple[int, int]  # quiet hours as minutes after local midnight: (start, end)


def window_of(user: User, default: Window) -> Window:
    """The person's own quiet hours, or ``default`` when they set none."""
    if user.quiet_start is None or user.quiet_end is None:
        return default
    return user.quiet_start, user.quiet_end


def quiet_until(window: Window, now: dt.datetime, timezone: ZoneInfo) -> dt.datetime | None:
    """When the quiet window ``now`` falls in ends (UTC); None when ``now`` is outside it. A window
    whose start is after its end spans midnight."""
    start, end = window
    local = now.astimezone(timezone)
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else minute >= start or minute < end
    if not inside:
        return None
    until = dt.datetime.combine(local.date(), dt.time(end // 60, end % 60), tzinfo=timezone)
    if until <= local:
        until += dt.timedelta(days=1)
    return until.astimezone(dt.UTC)


def in_quiet_hours(user: User, now: dt.datetime, timezone: ZoneInfo) -> bool:
    """Whether ``now`` falls in the person's own quiet hours."""
    if user.quiet_start is None or user.quiet_end is None:
        return False
    return quiet_until((user.quiet_start, user.quiet_end), now, timezone) is not None


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def set_quiet_hours(ctx: ServiceContext, text: str) -> None:
    text = text.strip()
    if not text:
        if ctx.user.quiet_start is None or ctx.user.quiet_end is None:
            await ctx.tell(ctx.user, N_("You have no quiet hours. {usage}"), usage=ctx.tell.tr(ctx.user)(USAGE))
        else:
            await ctx.tell(ctx.user, N_("Your quiet hours: {start}–{end}."),
                            start=_clock(ctx.user.quiet_start), end=_clock(ctx.user.quiet_end))
    elif text.lower() in ("off", "关闭", "关"):
        ctx.user.quiet_start = ctx.user.quiet_end = None
        await ctx.tell(ctx.user, N_("Quiet hours are off: reminders may come at any time."))
    else:
        ctx.user.quiet_start, ctx.user.quiet_end = parse_range(text)
        await ctx.tell(ctx.user, N_("Quiet hours set: {start}–{end}. Reminders wait until they end; "
                                      "emergencies do not."), start=_clock(ctx.user.quiet_start),
                        end=_clock(ctx.user.quiet_end))
    await ctx.uow.commit()
