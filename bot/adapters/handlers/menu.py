"""The private chat's keyboard buttons and its "More" menu (:mod:`bot.views.menu`), ``/help``,
and the offer to send text typed outside a dialog as a request.

A pressed label and a tap on More's button with the same key run the same service call; the
service checks the person's roles again (a keyboard can be older than a role's change).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.adapters.handlers.people import COORDINATOR_USAGE
from bot.domain.errors import InvalidInput
from bot.i18n import N_
from bot.services import (
    activities,
    attendance,
    buildings,
    dispatch,
    history,
    hours,
    offer,
    people,
    points,
    privacy,
    quiet,
    recognition,
    registration,
    report,
    request,
    roster_chat,
    routing,
    teams,
)
from bot.services.context import ServiceContext
from bot.views import callbacks as cb
from bot.views import menu


async def _appoint(ctx: ServiceContext) -> None:
    ctx.require_admin()
    raise InvalidInput(COORDINATOR_USAGE)  # it needs a person: reply to their message with the command


def _private(ctx: ServiceContext) -> int:
    return ctx.user.telegram_id


# Every key the keyboard or More can show (but Request, My requests and Language, which their
# rooms' handlers take), and the service call it stands for.
ACTIONS: dict[str, Callable[[ServiceContext], Awaitable[None]]] = {
    menu.HELP: people.show_help,
    menu.MORE: people.more,
    menu.JOIN: registration.begin_join,
    menu.ON_DUTY: lambda ctx: people.set_duty(ctx, True),
    menu.OFF_DUTY: lambda ctx: people.set_duty(ctx, False),
    menu.QUIET: quiet.offer_choices,
    menu.HOURS: hours.summary,
    menu.PROFILE: registration.show_profile,
    menu.TEAM: lambda ctx: teams.overview(ctx, None, _private(ctx)),
    menu.TEAMS: lambda ctx: teams.overview(ctx, None, _private(ctx)),
    menu.NEIGHBOUR: lambda ctx: buildings.begin_for_neighbour(ctx, None),
    menu.BUILDING_LINK: lambda ctx: buildings.send_link(ctx, None),
    menu.ORDERS: lambda ctx: dispatch.list_open(ctx, _private(ctx)),
    menu.BUILDINGS: lambda ctx: buildings.overview(ctx, _private(ctx)),
    menu.BUSINESSES: lambda ctx: teams.list_businesses(ctx, _private(ctx)),
    menu.FIND: people.offer_skills,
    menu.ROSTER: lambda ctx: roster_chat.export(ctx, "xlsx"),
    menu.APPOINT: _appoint,
    menu.ROUTES: lambda ctx: routing.show_rules(ctx, _private(ctx)),
    menu.ACTIVITIES: activities.overview,
    menu.CHECKIN: attendance.choose,
    menu.TEAM_HOURS: hours.team_view,
    menu.HOURS_EXPORT: hours.offer_export,
    menu.HOURS_ADMIN: hours.coordinator_help,
    menu.STARS: recognition.show,
    menu.POINTS: points.show,
    menu.REDEMPTIONS: lambda ctx: points.per_business(ctx, None, _private(ctx)),
    menu.HISTORY: history.explain,
    menu.REPORT: report.offer,
    menu.HOUSEHOLDS: report.households_help,
    menu.MY_DATA: privacy.show,
    menu.FORGET: privacy.ask_to_forget,
}


def _pressed(key: str, actions: dict[str, Callable[[ServiceContext], Awaitable[None]]] | None = None,
             ) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    action = (actions or ACTIONS)[key]

    async def on_press(update: Update, context: BotContext) -> None:
        await run(update, context, action)

    return on_press


async def more_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    action = ACTIONS.get(button.str_arg(0))
    if action is None:
        raise InvalidInput(N_("Please choose one of the buttons."))
    await action(ctx)
    return None


async def skill_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await people.find_volunteers(ctx, button.str_arg(0), None, _private(ctx))
    return None


async def quiet_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await quiet.choose(ctx, button.str_arg(0))
    return None


async def offer_yes(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await offer.accept(ctx)
    return None


async def offer_no(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await offer.decline(ctx)
    return None


CALLBACKS = {cb.MORE: more_button, cb.FIND_SKILL: skill_button, cb.QUIET_SET: quiet_button, cb.OFFER_YES: offer_yes,
             cb.OFFER_NO: offer_no}


async def on_help(update: Update, context: BotContext) -> None:
    await run(update, context, people.show_help)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    i18n = application.bot_data.deps.i18n
    application.add_handler(CommandHandler("help", on_help, filters=private), group=FLOWS)
    for key in ACTIONS:
        labels = list(i18n.all_translations(menu.LABELS[key]))
        application.add_handler(MessageHandler(private & filters.Text(labels), _pressed(key)), group=FLOWS)
    retired = {**ACTIONS, menu.MY: request.list_mine}
    for key, old_labels in menu.RETIRED_LABELS.items():
        application.add_handler(MessageHandler(private & filters.Text(list(old_labels)), _pressed(key, retired)),
                                group=FLOWS)
