"""``/team …`` for coordinators and team leaders, ``/link`` in a team's group, ``/businesses``, and
members leaving a team's group."""

from __future__ import annotations

from typing import Any

from telegram import ChatMember, Update
from telegram.ext import Application, ChatMemberHandler, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import named_person, run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.domain.errors import InvalidInput
from bot.i18n import N_
from bot.services import teams
from bot.services.context import ServiceContext
from bot.views.lists import TEAM_USAGE

LEFT = (ChatMember.LEFT, ChatMember.BANNED)
LINK_USAGE = N_("Usage: /link TEAM_CODE")


async def on_team(update: Update, context: BotContext) -> None:
    args = context.args or []
    chat_id = update.effective_chat.id if update.effective_chat else 0
    verb, rest = (args[0].lower(), args[1:]) if args else ("", [])

    async def act(ctx: ServiceContext) -> None:
        if not args:
            await teams.overview(ctx, None, chat_id)
        elif verb == "link" and len(rest) == 1:
            await teams.send_link(ctx, rest[0], chat_id)
        elif verb not in MANAGE and len(args) == 1:
            await teams.overview(ctx, args[0], chat_id)
        else:
            ctx.require_coordinator()
            if verb not in MANAGE or len(rest) < MANAGE[verb]:
                raise InvalidInput(TEAM_USAGE)
            if verb == "add":
                await teams.add_team(ctx, rest[0], rest[1], [c.lower() for c in rest[2:]], chat_id)
            elif verb == "rename":
                await teams.rename(ctx, rest[0], " ".join(rest[1:]))
            elif verb == "categories":
                await teams.set_categories(ctx, rest[0], [c.lower() for c in rest[1:]])
            elif verb == "sub":
                await teams.add_subteam(ctx, rest[0], rest[1], " ".join(rest[2:]))
            elif verb == "member":
                await teams.add_member(ctx, rest[0], named_person(update, rest[1:], TEAM_USAGE)[0])
            elif verb in ("leader", "unleader"):
                person = named_person(update, rest[1:], TEAM_USAGE)[0]
                await teams.appoint_leader(ctx, rest[0], person, verb == "leader")
            else:
                await teams.archive(ctx, rest[0], verb == "archive")

    await run(update, context, act)


# Management verbs and how many arguments each needs at least (after the verb).
MANAGE = {"add": 3, "member": 1, "rename": 2, "categories": 2, "sub": 3, "leader": 1, "unleader": 1, "archive": 1,
          "restore": 1}


async def on_link(update: Update, context: BotContext) -> None:
    args = context.args or []
    chat_id = update.effective_chat.id if update.effective_chat else 0

    async def act(ctx: ServiceContext) -> None:
        ctx.require_coordinator()
        if len(args) != 1:
            raise InvalidInput(LINK_USAGE)
        await teams.link_group(ctx, args[0], chat_id)

    await run(update, context, act)


async def on_businesses(update: Update, context: BotContext) -> None:
    chat_id = update.effective_chat.id if update.effective_chat else None
    await run(update, context, lambda ctx: teams.list_businesses(ctx, chat_id))


async def on_member_change(update: Update, context: BotContext) -> None:
    """A person left or was removed from a group the bot administers."""
    change = update.chat_member
    assert change is not None
    was_in = change.old_chat_member.status not in LEFT
    gone = change.new_chat_member.status in LEFT
    person = change.new_chat_member.user
    if not (was_in and gone) or person.is_bot:
        return
    await run(update, context, lambda ctx: teams.member_left_group(ctx, change.chat.id, person.id,
                                                                      person.first_name),
              refuse_in_chat=False)


CALLBACKS: dict[str, Any] = {}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("team", on_team), group=FLOWS)
    application.add_handler(CommandHandler("link", on_link, filters=filters.ChatType.GROUPS), group=FLOWS)
    # /businesses from a group: answered privately
    application.add_handler(CommandHandler("businesses", on_businesses), group=FLOWS)
    application.add_handler(ChatMemberHandler(on_member_change, ChatMemberHandler.CHAT_MEMBER), group=FLOWS)
