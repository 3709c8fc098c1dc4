"""The bot's own membership: added to or removed from a group, blocked in private, migrations."""

from __future__ import annotations

from typing import Any

from telegram import ChatMember, Update
from telegram.ext import Application, ChatMemberHandler, MessageHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import people, teams
from bot.services.context import ServiceContext

PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def on_my_membership(update: Update, context: BotContext) -> None:
    change = update.my_chat_member
    assert change is not None
    chat = change.chat
    now_present = change.new_chat_member.status in PRESENT
    was_present = change.old_chat_member.status in PRESENT

    async def act(ctx: ServiceContext) -> None:
        if chat.type == "private":
            await people.reachability_changed(ctx, now_present)
        elif now_present and not was_present:
            await teams.bot_added_to_group(ctx, chat.id)
        elif was_present and not now_present:
            await teams.bot_removed_from_group(ctx, chat.id)
        else:
            await ctx.uow.commit()  # a rights change: nothing to do, but the update is handled

    await run(update, context, act, refuse_in_chat=False)


async def on_migrate(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await run(update, context, lambda ctx: teams.group_migrated(ctx, old, new), refuse_in_chat=False)


CALLBACKS: dict[str, Any] = {}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(ChatMemberHandler(on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER), group=FLOWS)
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate), group=FLOWS)
