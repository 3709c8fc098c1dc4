"""My service hours: the hours a volunteer entered for their finished requests, this month, this
year and in total, in the centre's time zone. A minimal summary; a ledger comes later."""

from __future__ import annotations

from bot.domain.errors import NotAllowed
from bot.i18n import N_
from bot.services.context import ServiceContext


async def summary(ctx: ServiceContext) -> None:
    if not any(v.status == "approved" for v in await ctx.uow.volunteers.of_user(ctx.user.id)):
        raise NotAllowed(N_("Only approved volunteers have service hours; tap Become a volunteer to register."))
    today = ctx.now.astimezone(ctx.config.timezone).date()
    month = year = total = 0.0
    entries = await ctx.uow.orders.hours_entries(volunteer_id=ctx.user.id)
    for at, hours in entries.values():
        day = at.astimezone(ctx.config.timezone).date()
        total += hours
        if day.year == today.year:
            year += hours
            if day.month == today.month:
                month += hours
    served = len({order_id for order_id, _round, _volunteer in entries})
    await ctx.tell.volunteer.hours_summary(ctx.user, month=month, year=year, total=total, requests=served)
    await ctx.uow.commit()
