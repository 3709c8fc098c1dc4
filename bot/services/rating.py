"""Rating: the resident says how it went (in words, stored on the 1–5 scale: bot.domain.satisfaction);
a poor rating reopens the request for the centre, and the volunteer who did it hears the verdict."""

from __future__ import annotations

from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.domain.inputs import Input
from bot.domain.lifecycle import Move, OrderStatus
from bot.domain.redact import redact
from bot.domain.satisfaction import POOR
from bot.i18n import N_
from bot.services import dialog_rules, orders
from bot.services.context import ServiceContext


async def rate(ctx: ServiceContext, order_id: int, stars: int) -> None:
    """The resident rates a done order (``stars`` 1–5, or 0 for "not solved"); poor ratings reopen it.
    The volunteer of the rated round hears the verdict."""
    if not 0 <= stars <= 5:
        raise InvalidInput(N_("Please choose one of the buttons."))
    order = await orders.find(ctx, order_id)
    rated_round, volunteer_id = order.round, order.volunteer_id  # a reopen empties the volunteer
    if order.resident_id != ctx.user.id:
        raise NotAllowed(N_("Only the person who made request #{number} can rate it."), number=order_id)
    if order.volunteer_id == ctx.user.id:
        raise NotAllowed(N_("You cannot rate a request you did yourself."))
    if order.status != OrderStatus.DONE:
        raise Conflict(N_("Request #{number} cannot be rated now."), number=order_id)
    if not await ctx.uow.ratings.add(order_id, rated_round, ctx.user.id, stars=stars or None, solved=stars > 0):
        raise Conflict(N_("You have already rated request #{number}."), number=order_id)
    if stars <= POOR:  # reopened for the centre: a new round, nobody holds it
        moved = await orders.move(ctx, order_id, Move.REOPEN, stars=stars, round=order.round + 1)
    else:
        moved = await orders.move(ctx, order_id, Move.CLOSE, stars=stars)
    if moved is None:
        raise Conflict(N_("Request #{number} cannot be rated now."), number=order_id)
    volunteer = await ctx.uow.users.get(volunteer_id) if volunteer_id is not None else None
    if volunteer is not None:
        await ctx.tell.volunteer.rated(volunteer, order_id, stars)
    # The comment is asked for only when it cannot take over another dialog (a request being written).
    data = {"order_id": order_id, "round": rated_round, "volunteer_id": volunteer_id}
    if await dialog_rules.ask_follow_up(ctx, "comment", "comment", data):
        await ctx.tell.resident.ask_comment(ctx.user, order)
    else:
        await ctx.tell(ctx.user, N_("Thank you for your rating! Please go on where you left off."))
    await ctx.uow.commit()


async def comment(ctx: ServiceContext, order_id: int, round_: int, text: str | None, *,
                  volunteer_id: int | None = None) -> None:
    """The optional comment after a rating (``None`` when skipped); a poor one goes to the centre,
    every one to the volunteer of the rated round (both redacted of phone numbers)."""
    rating = await ctx.uow.ratings.get(order_id, round_)
    if rating is None or rating.resident_id != ctx.user.id:
        raise Conflict(N_("There is nothing to comment on."))
    await dialog_rules.close(ctx, "comment")
    if text:
        rating.comment = text.strip()[:1000]
        if rating.stars is None or rating.stars <= POOR:
            await ctx.tell.centre.message(await ctx.centre(), N_("Comment on reopened request #{number}: {comment}"),
                                           number=order_id, comment=redact(rating.comment))
        volunteer = await ctx.uow.users.get(volunteer_id) if volunteer_id is not None else None
        if volunteer is not None:
            await ctx.tell(volunteer, N_("The resident's comment on request #{number}: {comment}"),
                            number=order_id, comment=redact(rating.comment))
    await ctx.tell(ctx.user, N_("Thank you for your feedback!"),
                    markup=ctx.tell.resident.menu_keyboard(ctx.user))
    await ctx.uow.commit()


async def skip_comment(ctx: ServiceContext, order_id: int) -> None:
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow != "comment" or dialog.data.get("order_id") != order_id:
        raise Conflict(N_("There is nothing to comment on."))
    await comment(ctx, order_id, int(str(dialog.data["round"])), None)


async def input_for_comment(ctx: ServiceContext, data: dict[str, object], inp: Input) -> None:
    volunteer = data.get("volunteer_id")  # absent in comment dialogs opened before volunteers heard back
    await comment(ctx, int(str(data["order_id"])), int(str(data["round"])), inp.text,
                  volunteer_id=int(str(volunteer)) if volunteer is not None else None)
