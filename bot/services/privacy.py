"""A person's rights over their own data (PIPL arts. 45 and 47; docs/privacy.md): ``/mydata`` sends
them everything the bot stores about them — a short message and a JSON file made from the database
when the message goes out (the outbox row holds only their id) — and ``/forget`` erases it.

``/forget`` asks first; its ✅/❌ buttons name the question's own outbox row, and the tap is
honoured only from the person the question was sent to. Then, in one unit of work: their open
requests are cancelled (through :func:`bot.services.orders.move`, so the volunteer is told), a
request waiting for their rating is closed as "no response", the requests they serve go back to
their team, their places at upcoming activities are given up, and
:meth:`storage.privacy.PrivacyRepository.forget` erases or anonymises the rest. Rows the reports
count stay, without anything that names the person, so every report stays right.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

from bot.domain.attachments import MyData
from bot.domain.errors import Conflict
from bot.domain.lifecycle import ACTIVE, OPEN, Move, OrderStatus
from bot.domain.phones import national_form, shown_phone
from bot.domain.roles import RESIDENT
from bot.i18n import N_, I18n
from bot.services import activities, orders, roles
from bot.services.context import ServiceContext
from bot.views import menu
from bot.views.privacy import Summary
from storage.models import User
from storage.repositories import FORGET_OFFER
from storage.uow import UnitOfWork

PHONE = re.compile(r"\+\d{6,15}")  # a phone number as stored (E.164)
ABOUT = N_("Everything Volunteer Loop stores about you, as of {moment} (UTC). Times are in UTC; ids link the "
           "tables. Requests you served show what you did, not the resident's contact.")


async def show(ctx: ServiceContext) -> None:
    """/mydata: the summary and the file, to the person's own private chat only."""
    held = await ctx.uow.privacy.holdings(ctx.user.id)
    user = held["profile"]
    home = ", ".join(part for part in (user["home_community"], user["home_building"], user["home_detail"]) if part)
    name = " / ".join(dict.fromkeys(part for part in (user["first_name"], user["home_name"]) if part))
    facts = Summary(name=name, phone=user["home_phone"] or "", home=home, orders_placed=len(held["orders_placed"]),
                    orders_served=len(held["orders_served"]), ratings=len(held["ratings_given"]),
                    hours_minutes=sum(int(entry["minutes"]) for entry in held["hours"]),
                    memberships=len(held["memberships"]), buildings=len(held["buildings_led"]),
                    signups=len(held["activity_signups"]), nominations=len(held["nominations"]),
                    audit=len(held["audit"]) + len(held["request_events"]))
    await ctx.tell.privacy.summary(ctx.user, facts)
    await ctx.uow.commit()


async def file_json(uow: UnitOfWork, attachment: MyData, i18n: I18n) -> bytes:
    """The ``/mydata`` file: the person's rows, read now, with a line saying what it is."""
    held = await uow.privacy.holdings(attachment.user_id)
    about = i18n.gettext(attachment.language, ABOUT, moment=uow.now().isoformat(timespec="seconds"))
    return json.dumps({"about": about, **held}, ensure_ascii=False, indent=2, default=str).encode()


async def write(uow_factory: Callable[[], UnitOfWork], attachment: MyData, path: Path, i18n: I18n) -> None:
    """The file an outbox message carries, made as it goes out (never stored in the row)."""
    async with uow_factory().reading() as uow:
        content = await file_json(uow, attachment, i18n)
    await asyncio.to_thread(path.write_bytes, content)


async def ask_to_forget(ctx: ServiceContext) -> None:
    """/forget: what erasing means for this person, with ✅/❌."""
    placed = await ctx.uow.privacy.placed_in(ctx.user.id, OPEN)
    serving = await ctx.uow.privacy.serving_in(ctx.user.id, ACTIVE)
    await ctx.tell.privacy.ask_to_forget(ctx.user, len(placed), len(serving))
    await ctx.uow.commit()


async def answer(ctx: ServiceContext, question_row: int, erase: bool) -> None:
    """A tap on the question's ✅ or ❌: honoured only from the person it was sent to."""
    question = await ctx.uow.outbox.get(question_row)
    if question is None or question.recipient_user_id != ctx.user.id or not question.payload.get(FORGET_OFFER):
        raise Conflict(N_("This button is out of date."))
    if not erase:
        await ctx.tell.privacy.kept(ctx.user)
        await ctx.uow.commit()
        return
    await forget(ctx)
    await ctx.uow.commit()


async def forget(ctx: ServiceContext) -> None:
    """Erase the actor's personal data (no commit: the caller's one unit of work)."""
    person = ctx.user
    chat, farewell = person.telegram_id, ctx.tell.privacy.forgotten_text(person)
    for number in await ctx.uow.privacy.placed_in(person.id, OPEN):
        await orders.move(ctx, number, Move.CANCEL)
    for number in await ctx.uow.privacy.placed_in(person.id, (OrderStatus.DONE,)):
        await orders.move(ctx, number, Move.NO_RESPONSE, no_response=True)
    for number in await ctx.uow.privacy.serving_in(person.id, ACTIVE):
        await orders.move(ctx, number, Move.RELEASE, where={"volunteer_id": person.id})
    for activity, _status in await ctx.uow.activities.of_user(person.id, ctx.now, limit=1000):
        await activities.give_up(ctx, activity)
    needles = with_phone_forms(await ctx.uow.privacy.identifiers(person.id))
    await ctx.uow.privacy.forget(person.id, needles)
    await ctx.uow.audit.record(None, "user", person.id, "forgotten")
    # The chat is told once more (nothing personal), with the keyboard and menu of a new person.
    newcomer = User(telegram_id=chat, language=person.language, on_duty=True)
    translate = ctx.tell.tr(newcomer)
    await ctx.tell.send(chat, farewell, markup=menu.keyboard(frozenset({RESIDENT}), True, translate))
    await ctx.tell.commands(newcomer, roles.menu(frozenset({RESIDENT}), translate))


def with_phone_forms(needles: list[str]) -> list[str]:
    """``needles`` and, for each stored phone number among them, the forms messages show it in
    (``13912345678``, ``139 1234 5678``), longest first."""
    forms = set(needles)
    for needle in needles:
        if PHONE.fullmatch(needle):
            forms |= {national_form(needle), shown_phone(needle)}
    return sorted(forms, key=len, reverse=True)
