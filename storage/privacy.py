"""A person's own data: everything stored about them (``/mydata``) and its erasure (``/forget``).

Erasure anonymises rather than deletes where the reports count rows (orders, ratings, memberships,
the hours ledger, sign-ups): the ids stay, the personal values go (docs/privacy.md says what is
kept and why). The person's users row is detached from their Telegram account (``telegram_id``
becomes a number no chat can have, see :data:`FORGOTTEN_BELOW`), so a later message from them
starts a new, empty person. Free text elsewhere that quotes the person (an outbox payload, an
audit detail, a rating comment) has their identifiers cut out by :meth:`PrivacyRepository.redact`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select, update

from storage.models import (
    ActivitySignup,
    AuditEvent,
    Base,
    Building,
    Dialog,
    HoursEntry,
    Nomination,
    Order,
    OrderEvent,
    OutboxMessage,
    ParkedUpdate,
    PointAccount,
    PointCode,
    Rating,
    ReachedHousehold,
    Redemption,
    ScheduledItem,
    User,
    Volunteer,
)
from storage.repositories import _Repository, household_key

# Forgotten people's users rows get ``telegram_id = FORGOTTEN_BELOW - users.id``: below any chat id
# Telegram gives (user ids are positive, group ids above -10¹⁴), unique, and still a BigInteger.
FORGOTTEN_BELOW = -(2 ** 62)
REDACTED = "***"
MIN_NEEDLE = 3  # shorter identifiers (a two-letter name) are cut out only if they are not plain ASCII

# Columns of free text (or JSON holding free text) that may quote a person: (model, column). Other
# people's requests and dialogs stay theirs (a description naming a neighbour is the neighbour's
# business); what the bot itself wrote (messages, events) and comments about a volunteer lose the
# person's identifiers.
QUOTING: tuple[tuple[type[Base], str], ...] = (
    (OutboxMessage, "payload"), (OrderEvent, "detail"), (AuditEvent, "detail"), (Rating, "comment"),
    (Nomination, "figures"),
)


def forgotten_telegram_id(user_id: int) -> int:
    return FORGOTTEN_BELOW - user_id


def is_forgotten_chat(chat_id: int) -> bool:
    """A forgotten person's former chat: nothing may be sent there."""
    return chat_id <= FORGOTTEN_BELOW


def usable_needles(needles: Iterable[str]) -> list[str]:
    """The identifiers worth searching for: stripped, long enough not to match ordinary words."""
    found = {n.strip() for n in needles if n and n.strip()}
    return sorted((n for n in found if len(n) >= MIN_NEEDLE or (len(n) >= 2 and not n.isascii())),
                  key=len, reverse=True)


def scrub(value: Any, needles: Sequence[str]) -> Any:
    """``value`` (text, or JSON made of dicts, lists and text) with every needle replaced."""
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, REDACTED)
        return value
    if isinstance(value, dict):
        return {key: scrub(item, needles) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, needles) for item in value]
    return value


def as_dict(row: Base, *, without: Iterable[str] = ()) -> dict[str, Any]:
    """A row's columns as JSON-ready values (times in ISO 8601, UTC)."""
    skip = set(without)
    values: dict[str, Any] = {}
    for column in row.__table__.columns:
        if column.key in skip:
            continue
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if isinstance(value, dt.datetime | dt.date) else value
    return values


class PrivacyRepository(_Repository):
    async def holdings(self, user_id: int) -> dict[str, Any]:
        """Everything stored about person ``user_id``, table by table, as plain JSON values. Orders
        they served show what they did, not the resident's contact (that is the resident's data)."""
        user = await self.session.get(User, user_id)
        assert user is not None
        memberships = (await self.session.scalars(
            select(Volunteer).where(Volunteer.user_id == user_id).order_by(Volunteer.id))).all()
        placed = (await self.session.scalars(
            select(Order).where(Order.resident_id == user_id).order_by(Order.id))).all()
        served = (await self.session.scalars(
            select(Order).where(Order.volunteer_id == user_id).order_by(Order.id))).all()
        served_ids = select(HoursEntry.order_id).where(HoursEntry.user_id == user_id, HoursEntry.source == "order")
        served_before = (await self.session.scalars(
            select(Order).where(Order.id.in_(served_ids), or_(Order.volunteer_id.is_(None),
                                                               Order.volunteer_id != user_id))
            .order_by(Order.id))).all()
        own_orders = [order.id for order in placed]
        volunteer_ids = [membership.id for membership in memberships]
        order_events = (await self.session.scalars(
            select(OrderEvent).where(or_(OrderEvent.actor_id == user_id, OrderEvent.order_id.in_(own_orders)))
            .order_by(OrderEvent.id))).all()
        about_them = or_(AuditEvent.actor_id == user_id,
                         (AuditEvent.subject == "user") & (AuditEvent.subject_id == user_id),
                         (AuditEvent.subject == "volunteer") & AuditEvent.subject_id.in_(volunteer_ids))
        audit = (await self.session.scalars(select(AuditEvent).where(about_them).order_by(AuditEvent.id))).all()
        not_theirs = ("contact_name", "contact_phone", "address_detail", "description", "voice_file_id",
                      "photo_file_id", "card_outbox_id", "offer_cards")

        async def rows(model: type[Base], *where: Any) -> list[dict[str, Any]]:
            found = (await self.session.scalars(select(model).where(*where))).all()
            return [as_dict(row) for row in found]

        dialog = await self.session.get(Dialog, user_id)
        return {
            "profile": as_dict(user, without=("menu_roles",)),
            "orders_placed": [as_dict(order, without=("card_outbox_id", "offer_cards")) for order in placed],
            "orders_served": [as_dict(order, without=not_theirs) for order in [*served, *served_before]],
            "ratings_given": await rows(Rating, Rating.resident_id == user_id),
            "hours": await rows(HoursEntry, HoursEntry.user_id == user_id),
            "memberships": [as_dict(m) for m in memberships],
            "buildings_led": await rows(Building, Building.leader_id == user_id),
            "points_spent": await rows(PointAccount, PointAccount.user_id == user_id),
            "point_codes": await rows(PointCode, PointCode.user_id == user_id),
            "redemptions": await rows(Redemption, Redemption.user_id == user_id),
            "activity_signups": await rows(ActivitySignup, ActivitySignup.user_id == user_id),
            "nominations": await rows(Nomination, Nomination.user_id == user_id),
            "request_events": [as_dict(event) for event in order_events],
            "audit": [as_dict(event) for event in audit],
            "dialog": as_dict(dialog) if dialog is not None else None,
        }

    async def placed_in(self, user_id: int, statuses: Iterable[str]) -> list[int]:
        """The ids of the orders person ``user_id`` placed that are in one of ``statuses``."""
        return list((await self.session.scalars(select(Order.id).where(
            Order.resident_id == user_id, Order.status.in_(list(statuses))).order_by(Order.id))).all())

    async def serving_in(self, user_id: int, statuses: Iterable[str]) -> list[int]:
        """The ids of the orders person ``user_id`` holds as their volunteer in one of ``statuses``."""
        return list((await self.session.scalars(select(Order.id).where(
            Order.volunteer_id == user_id, Order.status.in_(list(statuses))).order_by(Order.id))).all())

    async def identifiers(self, user_id: int) -> list[str]:
        """What identifies the person in free text: their Telegram first name, the names, phones and
        addresses they gave (their own, on their requests, in their memberships)."""
        user = await self.session.get(User, user_id)
        assert user is not None
        values = [user.first_name, user.home_name or "", user.home_phone or "", user.home_detail or ""]
        for name, phone in (await self.session.execute(
                select(Volunteer.name, Volunteer.phone).where(Volunteer.user_id == user_id))).all():
            values += [name, phone]
        for name, phone, detail in (await self.session.execute(
                select(Order.contact_name, Order.contact_phone, Order.address_detail)
                .where(Order.resident_id == user_id, Order.on_behalf.is_(False)))).all():
            values += [name, phone, detail]
        return usable_needles(values)

    async def forget(self, user_id: int, needles: Sequence[str]) -> None:
        """Erase or anonymise person ``user_id``'s data everywhere it is stored (in this
        transaction); ``needles`` (from :meth:`identifiers`, read before) are cut out of free text.
        Orders still open must have been moved first (the caller's business)."""
        user = await self.session.get(User, user_id)
        assert user is not None
        telegram_id = user.telegram_id
        mine = OutboxMessage.recipient_user_id == user_id
        to_them = or_(mine, OutboxMessage.chat_id == telegram_id)
        own_orders = select(Order.id).where(Order.resident_id == user_id)
        keys = (await self.session.execute(
            select(Order.community, Order.building, Order.address_detail).where(Order.resident_id == user_id))).all()
        await self.session.execute(update(Order).where(Order.resident_id == user_id).values(
            contact_name="", contact_phone="", address_detail="", description="", when_text="",
            voice_file_id=None, photo_file_id=None))
        await self._forget_households(keys)
        await self.session.execute(update(Rating).where(Rating.resident_id == user_id).values(comment=None))
        await self.session.execute(update(Volunteer).where(Volunteer.user_id == user_id).values(
            name="", phone="", occupation="", hobbies="", skills=[], availability=None, is_leader=False))
        await self.session.execute(update(Building).where(Building.leader_id == user_id).values(leader_id=None))
        await self.session.execute(delete(Dialog).where(Dialog.user_id == user_id))
        await self.session.execute(update(PointCode).where(PointCode.user_id == user_id).values(
            code="", status="void"))
        await self.session.execute(update(ScheduledItem).where(
            ScheduledItem.user_id == user_id, ScheduledItem.state == "pending").values(state="cancelled",
                                                                                       result="forgotten"))
        await self.session.execute(update(ScheduledItem).where(
            ScheduledItem.order_id.in_(own_orders), ScheduledItem.state == "pending").values(state="cancelled",
                                                                                             result="forgotten"))
        await self.session.execute(update(OutboxMessage).where(
            to_them, OutboxMessage.status.in_(("pending", "sending"))).values(
            status="failed", error="forgotten", payload={"forgotten": True}))
        await self.session.execute(update(OutboxMessage).where(to_them).values(payload={"forgotten": True}))
        await self._forget_parked(telegram_id)
        await self.redact(needles)
        await self.session.execute(update(User).where(User.id == user_id).values(
            telegram_id=forgotten_telegram_id(user_id), first_name="", home_name=None, home_phone=None,
            home_community=None, home_building=None, home_detail=None, quiet_start=None, quiet_end=None,
            building_id=None, is_coordinator=False, unreachable=True, on_duty=False, menu_roles=""))

    async def _forget_households(self, keys: Sequence[Any]) -> None:
        """Reached households keyed by the person's flats keep counting, under a key naming nothing."""
        for community, building, detail in keys:
            if not detail:
                continue
            key = household_key(community, building, detail)
            found = await self.session.scalar(select(ReachedHousehold.id).where(ReachedHousehold.key == key))
            if found is not None:
                await self.session.execute(update(ReachedHousehold).where(ReachedHousehold.id == found)
                                           .values(key=f"forgotten:{found}"))

    async def _forget_parked(self, telegram_id: int) -> None:
        """Updates parked for an operator that came from the person (they hold what they sent)."""
        candidates = (await self.session.execute(
            select(ParkedUpdate.id, ParkedUpdate.payload)
            .where(cast(ParkedUpdate.payload, Text).contains(str(telegram_id))))).all()
        doomed = [row_id for row_id, payload in candidates if _mentions_user(payload, telegram_id)]
        if doomed:
            await self.session.execute(delete(ParkedUpdate).where(ParkedUpdate.id.in_(doomed)))

    async def redact(self, needles: Sequence[str]) -> int:
        """Cut ``needles`` out of every column that may quote a person; the rows changed."""
        changed = 0
        for needle in needles:
            stored = json.dumps(needle)[1:-1]  # how the JSON columns store it (ASCII-escaped)
            for model, name in QUOTING:
                column = getattr(model, name)
                is_json = name != "comment"
                text = cast(column, Text) if is_json else column
                pattern = stored if is_json else needle
                primary = next(iter(model.__mapper__.primary_key))
                found = (await self.session.execute(
                    select(primary, column).where(text.contains(pattern, autoescape=True)))).all()
                for key, value in found:
                    cleaned = scrub(value, [needle])
                    await self.session.execute(update(model).where(primary == key).values({name: cleaned}))
                    changed += 1
        return changed


def _mentions_user(payload: Any, telegram_id: int) -> bool:
    """Whether a raw Telegram update names the user (``from`` / ``user`` / ``chat`` with their id)."""
    if isinstance(payload, dict):
        if payload.get("id") == telegram_id and ("first_name" in payload or "type" in payload):
            return True
        return any(_mentions_user(item, telegram_id) for item in payload.values())
    if isinstance(payload, list):
        return any(_mentions_user(item, telegram_id) for item in payload)
    return False
