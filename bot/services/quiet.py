"""``/quiet``: a person sets, shows or turns off their quiet hours (the rules that read them are
in :mod:`bot.domain.quiet_hours`)."""

from __future__ import annotations

from bot.domain.quiet_hours import USAGE, parse_range
from bot.i18n import N_
from bot.services.context import ServiceContext


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def set_quiet_hours(ctx: ServiceContext, text: str) -> None:
    text = text.strip()
    if not text:
        if ctx.user.quiet_start is None or ctx.user.quiet_end is None:
            await ctx.tell(ctx.user, N_("You have no quiet hours. {usage}"),
                           usage=ctx.tell.tr(ctx.user)(USAGE))
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


# The Quiet hours button's choices (callback QUIET_SET); any other range can still be typed.
PRESETS = {"22-7": "22:00-07:00", "21-8": "21:00-08:00", "off": "off"}


async def offer_choices(ctx: ServiceContext) -> None:
    """The Quiet hours button: the person's quiet hours now, and buttons to change them."""
    user = ctx.user
    current = None if user.quiet_start is None or user.quiet_end is None \
        else f"{_clock(user.quiet_start)}–{_clock(user.quiet_end)}"
    await ctx.tell.resident.quiet_choices(user, current)
    await ctx.uow.commit()


async def choose(ctx: ServiceContext, choice: str) -> None:
    await set_quiet_hours(ctx, PRESETS[choice])
