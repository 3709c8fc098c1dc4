"""The database schema. Telegram ids are 64-bit; every timestamp is stored in UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class User(Base):
    """Anyone who has talked to the bot (or been named by id); roles are flags and memberships."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_coordinator", "is_coordinator"),)  # the centre's readers, among every resident

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    # A volunteer's /onduty and /offduty; everyone starts on duty.
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Quiet hours in the person's local time, minutes after midnight (start > end spans midnight).
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    # The building whose link or QR code brought the person to the bot.
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("buildings.id", use_alter=True, name="fk_users_building_id"))  # buildings name their leader
    # The roles whose command menu was last set for the person's chat ("" = the default menu).
    menu_roles: Mapped[str] = mapped_column(String(128), default="", server_default=text("''"))
    # The resident's own name, phone and address from their last request, offered on the next one
    # ("same as last time"); a building leader's requests for neighbours never write them.
    home_name: Mapped[str | None] = mapped_column(String(128))
    home_phone: Mapped[str | None] = mapped_column(String(32))
    home_community: Mapped[str | None] = mapped_column(String(128))
    home_building: Mapped[str | None] = mapped_column(String(128))
    home_detail: Mapped[str | None] = mapped_column(String(256))
    # Request drafts begun so far: the newest draft's number, carried by its buttons (a button of an
    # earlier draft is refused).
    request_drafts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[dt.datetime]


class Team(Base):
    """A specialised team with its group chat and the service categories it takes."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]


class SubTeam(Base):
    """A team's sub-team by skill: the approved members of the team who have ``skill``."""

    __tablename__ = "subteams"
    __table_args__ = (UniqueConstraint("team_id", "skill"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    skill: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]


class RouteRule(Base):
    """A coordinator's routing rule: new orders of ``category`` (from ``community``; "" for any
    community) go straight to ``team``. The most specific rule wins (bot.services.routing)."""

    __tablename__ = "route_rules"
    __table_args__ = (UniqueConstraint("category", "community"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(128), default="", server_default=text("''"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime]


class Building(Base):
    """A residential building with its building leader (楼长), who relays neighbours' needs."""

    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    community: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime]


class Volunteer(Base):
    """A person's membership of a team: registered through the bot (``source`` ``bot``, approved by a
    coordinator) or imported from the district's roster (``source`` ``roster``, approved on import).

    A roster volunteer may have no Telegram account yet, so ``user_id`` is empty until the person
    starts the bot. ``registry_number`` (the national volunteer registry number) is unique when
    present; roster imports match on it, then on the normalised ``phone``.
    """

    __tablename__ = "volunteers"
    __table_args__ = (
        UniqueConstraint("user_id", "team_id"),
        Index("ix_volunteers_registry_number", "registry_number", unique=True),
        Index("ix_volunteers_phone", "phone"),
        # members, leaders, and /find's "in a team that serves the skill" answered from the index alone
        Index("ix_volunteers_team", "team_id", "status", "is_leader", "community", "id"),
        Index("ix_volunteers_kind", "kind", "status"),  # the businesses' list
        # the measures: "is this person an approved volunteer of the place?" from the index alone (0013)
        Index("ix_volunteers_measures", "user_id", "status", "team_id", "community"),
        # the communities a report names, answered from the index alone (0016)
        Index("ix_volunteers_community", "community", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    registry_number: Mapped[str | None] = mapped_column(String(32))
    community: Mapped[str] = mapped_column(String(128), default="")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)  # skill codes (the service categories)
    source: Mapped[str] = mapped_column(String(8), default="bot")  # bot | roster
    occupation: Mapped[str] = mapped_column(String(64), default="", server_default=text("''"))
    hobbies: Mapped[str] = mapped_column(String(128), default="", server_default=text("''"))
    # party_member | social_org | property | business | resident (see bot.services.registration)
    kind: Mapped[str] = mapped_column(String(16), default="resident", server_default=text("'resident'"))
    availability: Mapped[list[str] | None] = mapped_column(JSON)  # weekday | evening | weekend; None: not asked
    # A business (商居服务联盟) joins as a provider: its name here, the contact person in ``name``.
    organisation: Mapped[str] = mapped_column(String(128), default="", server_default=text("''"))
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]


class VolunteerSkill(Base):
    """One skill of a volunteer, with the volunteer's community in lower case: ``/find`` reads an
    index of these instead of searching every volunteer's ``skills`` list (and matches the
    community with a plain LIKE, several times cheaper than ILIKE on PostgreSQL).

    Derived from ``volunteers.skills`` and ``volunteers.community`` by database triggers (migration
    0007), so every writer — registration, profile edits, the roster import, a plain SQL UPDATE —
    keeps them in step without knowing they exist; nothing in the bot writes them.
    """

    __tablename__ = "volunteer_skills"
    __table_args__ = (Index("ix_volunteer_skills_find", "skill", "community", "volunteer_id"),)

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(32), primary_key=True)
    community: Mapped[str] = mapped_column(String(128))  # lower(volunteers.community), the database's lower()


class Order(Base):
    """A resident's request and where it stands in the loop: ``status`` holds a
    ``bot.domain.lifecycle.OrderStatus`` value, changed only by ``bot.services.orders.move``."""

    __tablename__ = "orders"
    # At district scale (a million orders) every list, digest and report reads through one of these.
    __table_args__ = (
        # with_status, waiting_since; covering for the monthly report's counts (closed_by_team)
        Index("ix_orders_status_time", "status", "updated_at", "team_id", "no_response"),
        Index("ix_orders_appointment", "status", "appointment_at"),  # past_appointment
        Index("ix_orders_team", "team_id", "status"),  # of_team, archiving a team
        Index("ix_orders_resident", "resident_id", "on_behalf", "created_at"),  # of_resident, the request limits
        Index("ix_orders_volunteer", "volunteer_id", "status"),  # the businesses' completed orders
        # the measures of a period (docs/measures.md), answered from the index alone (migration 0013)
        Index("ix_orders_measures", "created_at", "status", "round", "team_id", "community", "building_id",
              "resident_id", "no_response", "accepted_at", "done_at"),
        # finished orders whose contact is still kept (bot.services.retention; migration 0017)
        Index("ix_orders_retention", "contact_erased_at", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    voice_file_id: Mapped[str | None] = mapped_column(String(256))
    photo_file_id: Mapped[str | None] = mapped_column(String(256))  # a photo sent with the description
    community: Mapped[str] = mapped_column(String(128))
    building: Mapped[str] = mapped_column(String(128), default="")
    address_detail: Mapped[str] = mapped_column(String(256), default="")
    when_text: Mapped[str] = mapped_column(String(64))
    contact_name: Mapped[str] = mapped_column(String(128))
    contact_phone: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hours: Mapped[float | None]
    round: Mapped[int] = mapped_column(Integer, default=1)  # +1 each time a poor rating reopens it
    card_outbox_id: Mapped[int | None] = mapped_column(Integer)
    # Placed by a building leader for a neighbour without Telegram: ``resident_id`` is the leader,
    # who gets the updates and records the neighbour's rating.
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The agreed time, when the request's time could be read as one (a day and maybe an hour).
    appointment_at: Mapped[dt.datetime | None]
    # Cards of this order posted in other teams' groups by the escalation ladder: team id → outbox id.
    offer_cards: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The resident never rated it: closed as "no response", counted apart from ratings.
    no_response: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", name="fk_orders_building_id"))
    # For the measures: the first accept in the order's life and its last done (migration 0013),
    # written by the move that makes them (bot.services.follow_ups.measures).
    accepted_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]  # of a finished order: when it finished (nothing moves it again)
    # The private messages the volunteer holding it got with the resident's contact (bot.services.
    # retention): {"volunteer": user id, "details": outbox id, "voice": …, "photo": …}; redacted and
    # emptied when the order finishes or leaves them.
    volunteer_messages: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When the contact, address, voice note and photo were erased, [privacy] contact_retention_days
    # after the order finished (migration 0017).
    contact_erased_at: Mapped[dt.datetime | None]


class OrderEvent(Base):
    """The audit log: every change to an order, who made it and when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]


class Rating(Base):
    """A resident's verdict on a finished order: stars, or "not solved", and a comment."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("order_id", "round"),
        Index("ix_ratings_time", "created_at", "order_id", "stars"),  # a period's 满意率 (migration 0013)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int | None]
    solved: Mapped[bool] = mapped_column(Boolean, default=True)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class Dialog(Base):
    """Where a person is in a multi-step conversation, so a restart continues it."""

    __tablename__ = "dialogs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime]


class OutboxMessage(Base):
    """A message or edit to send, written in the same transaction as the change that causes it.

    ``kind`` is ``send`` or ``edit``. An edit names the send that created its message
    (``target_id``); only the newest pending edit of a message is sent.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "not_before"),
        Index("ix_outbox_chat_queue", "chat_id", "status", "id"),  # "is an older row of this chat waiting?"
        Index("ix_outbox_finished", "status", "created_at"),  # pruning finished rows
        Index("ix_outbox_target", "target_id"),  # the edits of a message (superseding, pruning)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed|superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime]
    claimed_until: Mapped[dt.datetime | None]
    sent_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(160))  # "<instance>#<boot>" of the claiming sender


class OutboxPace(Base):
    """Telegram's pacing for one chat (``chat_id``), or overall (:data:`storage.pacing.OVERALL`),
    shared by every bot process on the database (see storage/pacing.py). Moments are seconds since
    the epoch: ``times`` the recent calls (a rolling window), ``tokens``/``updated`` a group's burst
    bucket, ``hold_until`` the end of a 429's retry window."""

    __tablename__ = "outbox_pacing"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    times: Mapped[list[float]] = mapped_column(JSON, default=list)
    tokens: Mapped[float] = mapped_column(Float, default=0.0)
    updated: Mapped[float] = mapped_column(Float, default=0.0)
    hold_until: Mapped[float] = mapped_column(Float, default=0.0)


class ScheduledItem(Base):
    """One reminder, escalation step, lease check, rating chase or digest: due at ``due_at``.

    Written in the same transaction as the change that causes it and cancelled when the order moves
    on; the sweep (``bot.services.schedule.sweep``) takes due rows under a row lock, acts through the outbox and
    marks them done in one transaction, so each fires once however many bot processes sweep.
    ``key`` makes a recurring item (a digest for one day) unique, so no two are ever scheduled.
    Only ids are stored: what a reminder says is read from the order when it fires.
    """

    __tablename__ = "schedule"
    __table_args__ = (
        Index("ix_schedule_due", "state", "due_at"),
        Index("ix_schedule_order", "order_id", "state"),
        Index("ix_schedule_activity", "activity_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", name="fk_schedule_activity_id"))
    step: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)
    due_at: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|skipped|cancelled|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]
    fired_at: Mapped[dt.datetime | None]


class ProcessedUpdate(Base):
    """Inbound update ids already handled; a duplicate delivery finds its key here."""

    __tablename__ = "processed_updates"
    __table_args__ = (Index("ix_processed_updates_seen_at", "seen_at"),)  # pruning old ids

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[dt.datetime]


class ParkedUpdate(Base):
    """An inbound update we could not handle (unparseable, or a handler bug), kept for an operator.

    The raw update is needed to replay it; it holds whatever the person sent, so the row is deleted
    on replay or drop and after ``[ingest] parked_retention_days``. ``reason`` names the error's
    type and where it was raised, never its message (messages may quote what the person typed).
    ``state`` is ``parked``, or ``replay`` once an operator asked the running bot to handle it again.
    """

    __tablename__ = "parked_updates"
    __table_args__ = (Index("ix_parked_updates_state", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    error_type: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(256))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="parked")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    parked_at: Mapped[dt.datetime]
    failed_at: Mapped[dt.datetime]


class Activity(Base):
    """A team's own activity (a repair day, a class, a talk): announced in the team's group as a
    live card with Sign up. ``taken`` counts the places held (status ``in``); a sign-up wins a place
    by the conditional ``UPDATE activities SET taken = taken + 1 WHERE taken < capacity`` and its row
    count, so concurrent taps can never overfill it. ``code`` is the short check-in code shown on
    site (and carried by the QR code's deep link)."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_team_time", "team_id", "starts_at"),  # a team's activities, the monthly quota
        Index("ix_activities_status_time", "status", "starts_at"),  # upcoming, ending (auto check-out)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    title: Mapped[str] = mapped_column(String(128))
    place: Mapped[str] = mapped_column(String(256))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    bring: Mapped[str] = mapped_column(String(256), default="", server_default=text("''"))
    signup_deadline: Mapped[dt.datetime]
    skill: Mapped[str | None] = mapped_column(String(32))  # a required skill code, or None
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | cancelled | finished
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # Other teams it was announced to as well (team ids), and the cards: team id → outbox id.
    also_teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    cards: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ActivitySignup(Base):
    """One person's place (``in``) or turn (``waitlist``) for an activity, or a cancelled one.
    Waitlist order is ``id`` order (the order the database took the taps). ``attendance`` is
    ``""`` until known, then ``present`` (checked in by code, QR or by hand) or ``no_show``."""

    __tablename__ = "activity_signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id"),
        Index("ix_activity_signups_list", "activity_id", "status", "id"),  # the places, the waitlist's head
        Index("ix_activity_signups_user", "user_id", "status"),  # my activities
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))  # in | waitlist | cancelled
    attendance: Mapped[str] = mapped_column(String(16), default="", server_default=text("''"))
    checked_in_at: Mapped[dt.datetime | None]
    checked_out_at: Mapped[dt.datetime | None]
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # a leader who marked them present
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class HoursEntry(Base):
    """The hours ledger: one row per served period, never updated. ``source`` is ``order`` (accept →
    done, capped per category; ``claimed_minutes`` is the volunteer's own figure beside it, filled
    once when they type it), ``activity`` (check-in → check-out, capped at the activity's length),
    ``honour`` (added by a coordinator with a ``reason``; never earns points) or ``correction`` (a
    signed adjustment of the entry ``corrects_id``, with a reason). Minutes, so sums are exact."""

    __tablename__ = "hours_entries"
    __table_args__ = (
        # one volunteer's "my hours" answered from the index alone
        Index("ix_hours_user_time", "user_id", "served_at", "source", "minutes"),
        # the district's monthly export, answered from the index alone (migration 0011)
        Index("ix_hours_time", "served_at", "id", "user_id", "team_id", "source", "order_id", "activity_id",
              "corrects_id", "minutes"),
        Index("ix_hours_team_time", "team_id", "served_at"),  # a team leader's view
        Index("ix_hours_order", "order_id"),
        Index("ix_hours_activity", "activity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    source: Mapped[str] = mapped_column(String(16))  # order | activity | honour | correction
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    round: Mapped[int | None] = mapped_column(Integer)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("hours_entries.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    claimed_minutes: Mapped[int | None] = mapped_column(Integer)
    served_at: Mapped[dt.datetime]  # when the service began (its day is the service date)
    ended_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(String(256))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime]


class AuditEvent(Base):
    """The audit trail of everything that is not an order's own move (those are ``order_events``):
    approvals, role changes, honour hours and corrections, point redemptions. ``subject`` names what
    it is about (``volunteer``, ``user``, ``team``, ``hours``, ``redemption``, …) and ``subject_id``
    its row; ``detail`` holds ids and codes, never phone numbers or free text a person typed."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_subject", "subject", "subject_id", "id"),  # one thing's history
        Index("ix_audit_time", "created_at"),  # a period's events, pruning
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the bot itself
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]


class Nomination(Base):
    """A month's recognition (docs/recognition.md): a team's 志愿之星 (``kind`` ``star``, the
    volunteer ``user_id``) or the district's 五星服务队 (``kind`` ``team``), with the score and the
    figures behind it. Nothing is posted until a coordinator approves: ``status`` goes ``proposed``
    → ``approved`` (or ``rejected``) by a conditional UPDATE whose row count settles a double tap,
    then → ``posted`` when the announcement and the star's note are queued in the same transaction.
    ``cards`` are the outbox rows of the coordinators' cards, edited once it is decided."""

    __tablename__ = "nominations"
    __table_args__ = (
        UniqueConstraint("month", "kind", "team_id"),
        Index("ix_nominations_status", "status", "month"),  # what still waits for a decision
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the centre's time zone
    kind: Mapped[str] = mapped_column(String(8))  # star | team
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the star; None for a team
    score: Mapped[float]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed|approved|rejected|posted
    cards: Mapped[list[str]] = mapped_column(JSON, default=list)  # outbox row ids of the coordinators' cards
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class PointAccount(Base):
    """What one person spent of the points they earned in one (local) year. Points are earned from
    the hours ledger (hours served for orders and activities, never honour hours) and not stored:
    spending is one conditional UPDATE of ``spent`` guarded by "earned − spent ≥ amount", so the
    balance can never go below zero, however many businesses redeem at once."""

    __tablename__ = "point_accounts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    spent: Mapped[int] = mapped_column(Integer, default=0)


class PointCode(Base):
    """A one-time code a volunteer shows a business: ``issued`` until used once (``used``), replaced
    by the person's next code (``void``) or past ``expires_at``. Random, short-lived, one live per
    person, so it is stored as it is typed."""

    __tablename__ = "point_codes"
    __table_args__ = (
        Index("ix_point_codes_code", "code", "status"),  # a typed code, among the live ones
        Index("ix_point_codes_user", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default="issued")  # issued | used | void
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class Redemption(Base):
    """Points spent at a partner business (商居服务联盟): added once per code, never changed.
    ``business_id`` is the business's membership row (its name, ``organisation``); ``cashier_id``
    the person who confirmed it."""

    __tablename__ = "point_redemptions"
    __table_args__ = (Index("ix_point_redemptions_business", "business_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("point_codes.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    business_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]


class HouseholdCount(Base):
    """How many households a building (``building_id``) or a whole community (``building_id``
    empty) has, as a coordinator set it or the households file gave it: 知晓率's denominator
    (docs/measures.md). A community's own figure wins over the sum of its buildings'."""

    __tablename__ = "household_counts"
    __table_args__ = (UniqueConstraint("community", "building_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(128))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    households: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime]


class ReachedHousehold(Base):
    """A household the service has reached (知晓率's numerator, docs/measures.md): an address a
    request was placed for (``key`` community|building|flat, lower case), or a person who came by
    a building's link and has asked for nothing yet (``key`` ``u<user id>``, replaced by their
    address when they do). Kept in step by the writers themselves — a new order
    (``OrderRepository.add``) and a building link (``MeasuresRepository.reach_person``) — so a
    report counts an index range, never every order ever placed."""

    __tablename__ = "reached_households"
    __table_args__ = (Index("ix_reached_time", "reached_at", "community", "building_id"),
                      Index("ix_reached_community", "community", "reached_at"))  # by community (0016)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(420), unique=True)
    community: Mapped[str] = mapped_column(String(128))  # lower case
    building_id: Mapped[int | None] = mapped_column(Integer)
    reached_at: Mapped[dt.datetime]


# -- the measures' summaries (migration 0016, storage/summaries.py, docs/measures.md "Summaries") -------------------
# Kept in step by database triggers in the writer's own transaction; a report of whole local months
# reads these few hundred rows instead of a year of orders. ``month`` is the local month (yyyymm) under
# ``measure_clock``'s fixed UTC offset; ``axis`` is ``d`` (the district, key ""), ``t`` (a team: its id as
# text) or ``c`` (a community, lower case).
class MeasureClock(Base):
    """The fixed UTC offset (minutes) the summaries' months are cut at: one row, id 1."""

    __tablename__ = "measure_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    offset_minutes: Mapped[int] = mapped_column(Integer)


class MeasureCount(Base):
    """A count of one kind (orders counted, resolved, placed on behalf, closed unrated; ratings
    given and satisfied; volunteers who served; households that ordered; households reached)."""

    __tablename__ = "measure_counts"

    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    axis: Mapped[str] = mapped_column(String(1), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class MeasureMinutes(Base):
    """Orders by whole minutes from placing to the first accept (``kind`` a) or the last done (d)."""

    __tablename__ = "measure_minutes"

    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    axis: Mapped[str] = mapped_column(String(1), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


class MeasureServed(Base):
    """Who served in a month, for which team (0: none): distinct people do not add up, so the
    served counts are recounted from these rows when a person's roster rows change."""

    __tablename__ = "measure_served"
    __table_args__ = (Index("ix_measure_served_user", "user_id", "month", "team_id"),)

    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class MeasureResident(Base):
    """How many requests a resident placed in a month for themselves, per community: the
    households that ordered are counted from these rows."""

    __tablename__ = "measure_residents"

    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    resident_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    community: Mapped[str] = mapped_column(String(128), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
