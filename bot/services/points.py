"""Points and the service alliance (商居服务联盟, docs/points.md): hours served earn points at
``[points] per_hour``; a volunteer spends them at a partner business with a one-time code.

The volunteer taps "🎁 Use my points": their balance and a fresh code (the earlier one is void) with
its QR code (``…?start=pay_<code>``). The business (an approved membership of kind ``business``)
scans it or types it, chooses or types the amount and confirms. Confirming is one unit of work: the
code is used by a conditional UPDATE (issued, not expired), each live year's points by another
(earned − spent ≥ amount), the redemption row and its audit event are added and both sides get a
receipt. A refusal rolls everything back, so a code refused for too few points can be tried again
with a smaller amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.domain import points as rules
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.inputs import Input
from bot.domain.links import PAY, start_link
from bot.i18n import N_
from bot.services import dialog_rules
from bot.services.context import ServiceContext
from bot.services.hours import local_day, month_period, parse_month, year_period
from bot.services.privately import list_target
from bot.views.lists import Listing
from storage.models import PointCode, Volunteer
from storage.points import ISSUED, USED

FLOW = "points"  # the business's dialog: the amount for a code
MAX_CODE_TRIES = 5  # a new code that reads like a live one is drawn again


@dataclass(frozen=True)
class Balance:
    """A person's points that can be spent now: per live year (oldest first), and when each lapses."""

    years: tuple[tuple[int, int, dt.date], ...]  # (year, points left, last day)

    @property
    def total(self) -> int:
        return sum(left for _year, left, _last in self.years)


async def balance(ctx: ServiceContext, user_id: int) -> Balance:
    points = ctx.config.points
    rows = []
    for year in rules.live_years(local_day(ctx), points.expiry):
        earned = await ctx.uow.points.earned(user_id, year_period(ctx.config.timezone, year), points.per_hour)
        left = max(0, earned - await ctx.uow.points.spent(user_id, year))
        rows.append((year, left, points.expiry(year)))
    return Balance(tuple(rows))


# -- the volunteer -----------------------------------------------------------------------------------------------
async def show(ctx: ServiceContext) -> None:
    """"🎁 Use my points": the balance and, if there are points, a new one-time code and its QR code."""
    if not any(v.status == "approved" for v in await ctx.uow.volunteers.of_user(ctx.user.id)):
        raise NotAllowed(N_("Only approved volunteers earn points; tap Become a volunteer to register."))
    mine = await balance(ctx, ctx.user.id)
    if mine.total <= 0:
        await ctx.tell.points.empty(ctx.user, ctx.config.points.per_hour)
        await ctx.uow.commit()
        return
    if not ctx.bot_username:
        raise Conflict(N_("I do not know my own username yet; try again in a moment."))
    code = rules.new_code()
    for _ in range(MAX_CODE_TRIES):
        if not await ctx.uow.points.live(code, ctx.now):
            break
        code = rules.new_code()
    expires = ctx.now + dt.timedelta(minutes=ctx.config.points.code_minutes)
    await ctx.uow.points.issue(ctx.user.id, code, expires)
    await ctx.tell.points.code(ctx.user, mine.years, code, start_link(ctx.bot_username, PAY, code), expires,
                               ctx.config.timezone)
    await ctx.uow.commit()


# -- the business ------------------------------------------------------------------------------------------------
async def _business(ctx: ServiceContext) -> Volunteer:
    """The actor's approved business membership (never trusting a button)."""
    for membership in await ctx.uow.volunteers.of_user(ctx.user.id):
        if membership.status == "approved" and membership.kind == "business":
            return membership
    raise NotAllowed(N_("Only a partner business of the service alliance can take points codes."))


def _usable(ctx: ServiceContext, code: PointCode | None) -> PointCode:
    if code is None:
        raise NotFound(N_("This points code is not valid. Please check it with the volunteer."))
    if code.status == USED:
        raise Conflict(N_("This points code was used already. The volunteer can get a new one."))
    if code.status != ISSUED or code.expires_at <= ctx.now:
        raise Conflict(N_("This points code has expired. The volunteer can tap Use my points for a new one."))
    if code.user_id == ctx.user.id:
        raise Conflict(N_("This is your own points code: show it to the business."))
    return code


async def arrive_by_text(ctx: ServiceContext, text: str) -> bool:
    """Typed text outside a dialog that reads as a points code: a business is asked the amount (True).
    Text no code was issued as is not ours (False), unless a business typed it."""
    typed = rules.as_code(text)
    if typed is None:
        return False
    code = await ctx.uow.points.by_code(typed)
    if code is None and not any(v.status == "approved" and v.kind == "business"
                                for v in await ctx.uow.volunteers.of_user(ctx.user.id)):
        return False
    await _take(ctx, code)
    return True


async def arrive_by_link(ctx: ServiceContext, typed: str) -> None:
    """The QR code's deep link ``…?start=pay_<code>``, scanned by the business."""
    code = rules.as_code(typed)
    await _take(ctx, await ctx.uow.points.by_code(code) if code else None)


async def _take(ctx: ServiceContext, found: PointCode | None) -> None:
    if found is not None and found.user_id == ctx.user.id:  # a volunteer trying out their own code
        raise Conflict(N_("This is your own points code: show it to the business."))
    business = await _business(ctx)
    code = _usable(ctx, found)
    await dialog_rules.begin_from_button(ctx, FLOW, "amount", {"code": code.id})
    await ctx.tell.points.ask_amount(ctx.user, business, code)
    await ctx.uow.commit()


async def input_for_points(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """The business typed the amount for the code in its dialog row (or another code)."""
    amount = rules.parse_amount(inp.text)
    typed = rules.as_code(inp.text) if amount is None else None
    if typed is not None:  # the next customer's code: that one now
        await _take(ctx, await ctx.uow.points.by_code(typed))
        return
    if amount is None:
        raise InvalidInput(N_("Please type the points as a whole number, e.g. 20, or tap a button."))
    await choose_amount(ctx, int(data["code"]), amount)


async def choose_amount(ctx: ServiceContext, code_id: int, amount: int) -> None:
    """An amount (typed or tapped): the business is asked to confirm it."""
    business = await _business(ctx)
    code = _usable(ctx, await ctx.uow.points.get_code(code_id))
    await dialog_rules.close(ctx, FLOW)
    await ctx.tell.points.confirm(ctx.user, business, code, amount)
    await ctx.uow.commit()


async def confirm(ctx: ServiceContext, code_id: int, amount: int) -> None:
    """The business confirms: the code used once, the points spent, the redemption recorded and
    both sides told — all in this unit of work, or nothing."""
    business = await _business(ctx)
    if not 0 < amount <= rules.MAX_AMOUNT:
        raise InvalidInput(N_("Please type the points as a whole number, e.g. 20, or tap a button."))
    code = _usable(ctx, await ctx.uow.points.get_code(code_id))
    if not await ctx.uow.points.use(code.id, ctx.now):  # another business was first, a moment ago
        raise Conflict(N_("This points code was used already. The volunteer can get a new one."))
    mine = await balance(ctx, code.user_id)
    takes = rules.split(amount, [left for _year, left, _last in mine.years])
    if sum(takes) < amount:
        raise Conflict(N_("Not enough points: the volunteer has fewer than {amount}."), amount=amount)
    for (year, _left, _last), take in zip(mine.years, takes, strict=True):
        if take and not await ctx.uow.points.spend(code.user_id, year, year_period(ctx.config.timezone, year),
                                                   ctx.config.points.per_hour, take):  # spent meanwhile
            raise Conflict(N_("Not enough points: the volunteer has fewer than {amount}."), amount=amount)
    redemption = await ctx.uow.points.redeem(code.id, code.user_id, business.id, ctx.user.id, amount)
    await ctx.uow.audit.record(ctx.user.id, "redemption", redemption.id, "redeemed", user=code.user_id,
                               business=business.id, amount=amount)
    volunteer = await ctx.uow.users.get(code.user_id)
    assert volunteer is not None
    left = (await balance(ctx, code.user_id)).total
    await ctx.tell.points.receipts(volunteer, ctx.user, business, redemption.id, amount, left, ctx.now,
                                   ctx.config.timezone)
    await ctx.uow.commit()


# -- the coordinators ---------------------------------------------------------------------------------------------
async def per_business(ctx: ServiceContext, month: str | None = None, reply_chat_id: int | None = None, *,
                       page: int = 0, row: int | None = None) -> None:
    """Redemptions per business in a month (this month unless ``month`` is YYYY-MM), privately, paged."""
    ctx.require_coordinator()
    today = local_day(ctx)
    year, number = parse_month(month) if month else (today.year, today.month)
    where = await list_target(ctx, reply_chat_id) if row is None else Listing(ctx.user.telegram_id, page, row)
    if where is not None:
        found = await ctx.uow.points.by_business(month_period(ctx.config.timezone, year, number))
        await ctx.tell.points.per_business(where, ctx.user, f"{year:04d}-{number:02d}", found)
    await ctx.uow.commit()


async def cancel(ctx: ServiceContext) -> None:
    """The business's ✖ on the confirmation: nothing is taken (the code stays good until it expires)."""
    await _business(ctx)
    await dialog_rules.close(ctx, FLOW)
    await ctx.tell(ctx.user, N_("Cancelled: no points were taken."))
    await ctx.uow.commit()
