"""Lists meant for coordinators and team leaders (open requests, volunteers, teams, businesses,
buildings) are answered in the person's private chat, never in a group where volunteers read.

The coordinators' own chat keeps ``/orders``: it is where the centre works together, and the
list shows nothing personal (numbers, categories, redacted communities, statuses, teams).
"""

from __future__ import annotations

from bot.domain.chats import is_group
from bot.services.context import ServiceContext
from bot.views.lists import Listing


async def only_in_private(ctx: ServiceContext, chat_id: int, command: str) -> None:
    """A command sent in a group that works only in a private chat is not ignored: the group hears
    where it works (nothing personal, so anyone may read it), with a button to the bot."""
    await ctx.tell.lists.private_only(chat_id, command, ctx.bot_username)
    await ctx.uow.commit()


async def list_target(ctx: ServiceContext, chat_id: int | None, *, centre_may_read: bool = False) -> Listing | None:
    """Where a list asked for in ``chat_id`` goes (None: the person's private chat). In a group it
    goes to the private chat and the group is told so, without any of it; None when the person
    cannot be reached privately yet (never started the bot, or blocked it): the group asks them to
    start a private chat."""
    if chat_id is None or not is_group(chat_id):
        return Listing(ctx.user.telegram_id)
    if centre_may_read and chat_id == ctx.config.coordinators_chat_id:
        return Listing(chat_id)
    if ctx.user.unreachable or not await ctx.uow.outbox.reached(ctx.user.telegram_id):
        await ctx.tell.lists.needs_private_chat(chat_id, ctx.user)
        return None
    await ctx.tell.lists.sent_privately(chat_id, ctx.user)
    return Listing(ctx.user.telegram_id)
