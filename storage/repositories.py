"""Repositories: queries and conditional updates over one session. They never commit.

State changes that can race (an order changing status, a volunteer approved, an outbox row
claimed) are single conditional ``UPDATE … WHERE status IN (…)`` statements whose row count says
who won; nothing here reads a row and then writes it back in Python.

Order statuses are the lifecycle's (``bot.domain.lifecycle.OrderStatus``), which ``storage`` may not
import: every query about them takes the statuses it means from its caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.clock import Clock
from storage.errors import taken_if_not_unique
from storage.models import (
    Building,
    Dialog,
    Order,
    OrderEvent,
    OutboxMessage,
    ParkedUpdate,
    ProcessedUpdate,
    Rating,
    ReachedHousehold,
    RouteRule,
    ScheduledItem,
    SubTeam,
    Team,
    User,
    Volunteer,
    VolunteerSkill,
)

# The volunteers' table for Core statements (the mapped class types its ``__table__`` as any FROM clause).
VOLUNTEERS = Volunteer.metadata.tables[Volunteer.__tablename__]


class Talent(NamedTuple):
    """A volunteer as the talent reserve lists them; ``on_duty`` is None without Telegram."""

    name: str
    team: str
    community: str
    phone: str
    on_duty: bool | None


class _Repository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def _rowcount(self, statement: Any) -> int:
        result: CursorResult[Any] = await self.session.execute(statement)  # type: ignore[assignment]
        return result.rowcount

    def _postgresql(self) -> bool:
        return self.session.bind is not None and self.session.bind.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        """An INSERT that can skip conflicting rows on either backend."""
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class UserRepository(_Repository):
    async def ensure(self, telegram_id: int, first_name: str, language: str | None = None) -> User:
        """The user with this Telegram id, created on first contact (safe against a concurrent insert).

        Runs on every update, so a known person costs one SELECT; only a first contact inserts."""
        user = await self.by_telegram_id(telegram_id)
        if user is None:
            await self.session.execute(
                self._insert(User).values(telegram_id=telegram_id, first_name=first_name[:128],
                                          language=language, created_at=self.clock())
                .on_conflict_do_nothing(index_elements=["telegram_id"])
            )
            user = await self.by_telegram_id(telegram_id)
            assert user is not None
        if first_name and user.first_name != first_name[:128]:
            user.first_name = first_name[:128]
        return user

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        return await self.session.scalar(select(User).where(User.telegram_id == telegram_id))

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def coordinators(self) -> Sequence[User]:
        return (await self.session.scalars(select(User).where(User.is_coordinator).order_by(User.id))).all()

    async def set_on_duty(self, user_id: int, on_duty: bool) -> bool:
        """Go on or off duty; True when it changed."""
        return await self._rowcount(
            update(User).where(User.id == user_id, User.on_duty == (not on_duty)).values(on_duty=on_duty)) > 0

    async def set_reachable(self, telegram_id: int, reachable: bool) -> bool:
        """Flip the unreachable flag; True when it changed (so a change is reported once)."""
        return await self._rowcount(
            update(User).where(User.telegram_id == telegram_id, User.unreachable == reachable)
            .values(unreachable=not reachable)
        ) > 0


class TeamRepository(_Repository):
    async def add(self, code: str, name: str, categories: list[str]) -> Team:
        team = Team(code=code, name=name, categories=categories, created_at=self.clock())
        self.session.add(team)
        await self.session.flush()
        return team

    async def get(self, team_id: int) -> Team | None:
        return await self.session.get(Team, team_id)

    async def by_code(self, code: str) -> Team | None:
        return await self.session.scalar(select(Team).where(func.lower(Team.code) == code.lower()))

    async def by_chat(self, chat_id: int) -> Team | None:
        return await self.session.scalar(select(Team).where(Team.chat_id == chat_id))

    async def active(self) -> Sequence[Team]:
        return (await self.session.scalars(select(Team).where(Team.active).order_by(Team.id))).all()

    async def every(self) -> Sequence[Team]:
        """All teams, active or not, in id order."""
        return (await self.session.scalars(select(Team).order_by(Team.id))).all()

    async def for_category(self, category: str) -> list[Team]:
        return [t for t in await self.active() if category in t.categories]

    async def bind_chat(self, team_id: int, chat_id: int) -> None:
        await self.session.execute(update(Team).where(Team.chat_id == chat_id).values(chat_id=None))
        await self.session.execute(update(Team).where(Team.id == team_id).values(chat_id=chat_id))

    async def unbind_chat(self, chat_id: int) -> Team | None:
        team = await self.by_chat(chat_id)
        if team is not None:
            team.chat_id = None
        return team

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> bool:
        return await self._rowcount(update(Team).where(Team.chat_id == old_chat_id).values(chat_id=new_chat_id)) > 0

    async def set_active(self, team_id: int, active: bool, *, unless_open: Iterable[str] = ()) -> bool:
        """Archive (or restore) a team in one conditional UPDATE; False if it already was, or (when
        archiving) if an order in one of the ``unless_open`` statuses is with the team."""
        statement = update(Team).where(Team.id == team_id, Team.active == (not active))
        if not active and unless_open:
            statement = statement.where(~exists().where(Order.team_id == Team.id, Order.status.in_(list(unless_open))))
        return await self._rowcount(statement.values(active=active)) > 0

    async def add_subteam(self, team_id: int, skill: str, name: str) -> SubTeam:
        """A sub-team by skill (renamed if the team has one for that skill already)."""
        subteam = await self.session.scalar(select(SubTeam).where(SubTeam.team_id == team_id, SubTeam.skill == skill))
        if subteam is None:
            subteam = SubTeam(team_id=team_id, skill=skill, name=name, created_at=self.clock())
            self.session.add(subteam)
        else:
            subteam.name = name
        await self.session.flush()
        return subteam

    async def subteams(self, team_id: int) -> Sequence[SubTeam]:
        return (await self.session.scalars(
            select(SubTeam).where(SubTeam.team_id == team_id).order_by(SubTeam.id))).all()

    async def led_by(self, user_id: int) -> Sequence[Team]:
        """The active teams this person leads."""
        return (await self.session.scalars(
            select(Team).join(Volunteer, Volunteer.team_id == Team.id)
            .where(Volunteer.user_id == user_id, Volunteer.is_leader, Volunteer.status == "approved", Team.active)
            .order_by(Team.id))).all()


class VolunteerRepository(_Repository):
    # The columns of a volunteer's profile besides name, phone and registry number (bot.services.registration).
    PROFILE = ("community", "skills", "occupation", "hobbies", "kind", "availability", "organisation")
    FIND_CHUNK = 1000  # volunteers read by id per statement (well below either driver's parameter limit)
    DUTY_ORDER: ClassVar[dict[bool | None, int]] = {True: 0, False: 1, None: 2}  # on duty, off duty, without Telegram

    async def add(self, user_id: int, team_id: int, name: str, phone: str, *, registry_number: str | None = None,
                  **profile: Any) -> Volunteer:
        """The person's membership of a team, pending unless it is approved already, with the profile
        given (``PROFILE`` columns). Asking again updates the membership (a rejected one is pending
        again); an imported roster entry with this phone in this team is claimed and keeps its
        approval. The registry number is stored only on a membership that has none;
        :class:`AlreadyTaken` when another volunteer holds it."""
        unknown = set(profile) - set(self.PROFILE)
        if unknown:
            raise TypeError(f"not profile columns: {sorted(unknown)}")
        existing = await self.session.scalar(
            select(Volunteer).where(Volunteer.user_id == user_id, Volunteer.team_id == team_id))
        if existing is None:
            existing = await self._claim_roster_entry(user_id, team_id, phone)
        if existing is not None:
            existing.name, existing.phone = name, phone
            for column, value in profile.items():
                setattr(existing, column, value)
            if registry_number and not existing.registry_number:
                existing.registry_number = registry_number
            if existing.status == "rejected":
                existing.status = "pending"
            with taken_if_not_unique():
                await self.session.flush()
            return existing
        volunteer = Volunteer(user_id=user_id, team_id=team_id, name=name, phone=phone,
                              registry_number=registry_number, created_at=self.clock(), **profile)
        self.session.add(volunteer)
        with taken_if_not_unique():
            await self.session.flush()
        return volunteer

    async def update_profile(self, user_id: int, **values: Any) -> None:
        """Set profile columns (name, phone and ``PROFILE``) on every membership of the person."""
        unknown = set(values) - {"name", "phone", *self.PROFILE}
        if unknown:
            raise TypeError(f"not profile columns: {sorted(unknown)}")
        if values:
            await self.session.execute(update(Volunteer).where(Volunteer.user_id == user_id).values(**values))

    async def by_registry_number(self, registry_number: str) -> Volunteer | None:
        return await self.session.scalar(select(Volunteer).where(Volunteer.registry_number == registry_number))

    async def _claim_roster_entry(self, user_id: int, team_id: int, phone: str) -> Volunteer | None:
        """A volunteer imported from the roster (no Telegram account yet) with this phone in this
        team becomes this person's membership, keeping its approval; None when there is none."""
        candidates = (await self.session.scalars(
            select(Volunteer.id).where(Volunteer.team_id == team_id, Volunteer.phone == phone,
                                       Volunteer.user_id.is_(None)).order_by(Volunteer.id))).all()
        for candidate in candidates:
            if await self._rowcount(update(Volunteer).where(Volunteer.id == candidate, Volunteer.user_id.is_(None))
                                    .values(user_id=user_id)):
                return await self.session.get(Volunteer, candidate, populate_existing=True)
        return None

    async def get(self, volunteer_id: int) -> Volunteer | None:
        return await self.session.get(Volunteer, volunteer_id)

    async def decide(self, volunteer_id: int, approve: bool) -> bool:
        """Approve or reject a pending registration; False if someone already decided."""
        return await self._rowcount(
            update(Volunteer).where(Volunteer.id == volunteer_id, Volunteer.status == "pending")
            .values(status="approved" if approve else "rejected", decided_at=self.clock())
        ) > 0

    async def approved(self, user_id: int, team_id: int) -> Volunteer | None:
        return await self.session.scalar(select(Volunteer).where(
            Volunteer.user_id == user_id, Volunteer.team_id == team_id, Volunteer.status == "approved"))

    async def find(self, skill: str, community: str | None, limit: int | None = 20) -> Sequence[Talent]:
        """The talent reserve: approved volunteers with ``skill`` (their own, or their team's
        category), optionally in ``community``; on duty first, then those without Telegram, by name
        (in code point order).

        Never a pass over every volunteer. First their ids, from two indexes alone: their own skills
        from the skills rows (``ix_volunteer_skills_find``, which holds the community too), and the
        members of the few teams that serve the skill (``ix_volunteers_team``). Then the people by
        id, a chunk at a time: joined to the ids instead, PostgreSQL reads all volunteers to find the
        one in a hundred a community names. Plain rows, not ORM objects: a skill names thousands."""
        needle = f'%"{skill}"%'  # JSON lists are stored as text on SQLite; PostgreSQL casts them
        own = select(VolunteerSkill.volunteer_id).where(VolunteerSkill.skill == skill)
        by_team = select(Volunteer.id).where(
            Volunteer.team_id.in_(select(Team.id).where(cast(Team.categories, String).like(needle))),
            Volunteer.status == "approved")
        if community:
            own = own.where(VolunteerSkill.community.like(func.lower(f"%{community}%")))
            by_team = by_team.where(Volunteer.community.ilike(f"%{community}%"))
        ids = list(await self.session.scalars(union(own, by_team)))
        found: list[Any] = []
        for start in range(0, len(ids), self.FIND_CHUNK):
            found += (await self.session.execute(
                select(Volunteer.name, Team.name.label("team"), Volunteer.community, Volunteer.phone, User.on_duty,
                       Volunteer.id)
                .join(Team, Team.id == Volunteer.team_id)
                .outerjoin(User, User.id == Volunteer.user_id)
                .where(Volunteer.id.in_(ids[start:start + self.FIND_CHUNK]), Volunteer.status == "approved"))).all()
        found.sort(key=lambda row: (self.DUTY_ORDER[row.on_duty], row.name, row.id))
        return [Talent(*row[:5]) for row in found[:limit]]

    async def of_user(self, user_id: int) -> Sequence[Volunteer]:
        return (await self.session.scalars(select(Volunteer).where(Volunteer.user_id == user_id))).all()

    async def set_leader(self, user_id: int, team_id: int, leader: bool) -> bool:
        """Appoint (or stand down) an approved member as team leader; False if nothing changed."""
        return await self._rowcount(
            update(Volunteer).where(Volunteer.user_id == user_id, Volunteer.team_id == team_id,
                                    Volunteer.status == "approved", Volunteer.is_leader == (not leader))
            .values(is_leader=leader)) > 0

    async def members(self, team_id: int) -> Sequence[Volunteer]:
        """The approved members of a team, leaders first (``ix_volunteers_team``)."""
        return (await self.session.scalars(
            select(Volunteer).where(Volunteer.team_id == team_id, Volunteer.status == "approved")
            .order_by(Volunteer.is_leader.desc(), Volunteer.name, Volunteer.id))).all()

    async def leaders(self, team_id: int) -> Sequence[User]:
        return (await self.session.scalars(
            select(User).join(Volunteer, Volunteer.user_id == User.id)
            .where(Volunteer.team_id == team_id, Volunteer.is_leader, Volunteer.status == "approved")
            .order_by(User.id))).all()

    async def businesses(self, *, completed: str) -> Sequence[tuple[Volunteer, Team, int]]:
        """Approved business members (商居服务联盟) with the orders each has completed for its team
        (orders in status ``completed``)."""
        done = (
            select(func.count(Order.id))
            .where(Order.volunteer_id == Volunteer.user_id, Order.team_id == Volunteer.team_id,
                   Order.status == completed)
            .correlate(Volunteer).scalar_subquery())
        rows = await self.session.execute(
            select(Volunteer, Team, done).join(Team, Team.id == Volunteer.team_id)
            .where(Volunteer.kind == "business", Volunteer.status == "approved")
            .order_by(Volunteer.organisation, Volunteer.id))
        return [tuple(row) for row in rows.all()]

    # -- the roster (bulk import and export) --------------------------------------------------------
    ROSTER_COLUMNS = (Volunteer.id, Volunteer.registry_number, Volunteer.phone, Volunteer.name,
                      Volunteer.community, Volunteer.team_id, Volunteer.skills)

    async def matching(self, registry_numbers: Collection[str], phones: Collection[str]) -> Sequence[Any]:
        """Roster columns of every volunteer with one of these registry numbers or phones."""
        conditions = []
        if registry_numbers:
            conditions.append(Volunteer.registry_number.in_(list(registry_numbers)))
        if phones:
            conditions.append(Volunteer.phone.in_(list(phones)))
        if not conditions:
            return []
        if self._postgresql():
            # The connection keeps this statement prepared. A generic plan made while the table was
            # small (a sequential scan, then a compare against every value of both lists per row)
            # would be kept as an import grows the table: plan each lookup for its own values.
            await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        return (await self.session.execute(
            select(*self.ROSTER_COLUMNS).where(or_(*conditions)).order_by(Volunteer.id))).all()

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert roster volunteers (one multi-row INSERT); each dict names the columns to set.
        :class:`AlreadyTaken` when one conflicts with another volunteer."""
        if rows:
            now = self.clock()
            # Core, not the ORM's bulk insert: that one fetches each new primary key, a round trip per row.
            with taken_if_not_unique():
                await self.session.execute(insert(VOLUNTEERS), [{"created_at": now, **row} for row in rows])

    async def update_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Update volunteers by primary key (one executemany); each dict has ``id`` and the new values.
        :class:`AlreadyTaken` when one conflicts with another volunteer."""
        if rows:
            with taken_if_not_unique():
                await self.session.execute(update(Volunteer), list(rows))

    async def roster_page(self, after_id: int, limit: int) -> Sequence[Any]:
        """Volunteers (not rejected) with ``id > after_id`` in id order, with their team's code."""
        return (await self.session.execute(
            select(*self.ROSTER_COLUMNS, Team.code).join(Team, Team.id == Volunteer.team_id)
            .where(Volunteer.id > after_id, Volunteer.status != "rejected")
            .order_by(Volunteer.id).limit(limit))).all()


class RouteRepository(_Repository):
    """Routing rules; a rule per category and community ("" for any), so adding one that exists
    replaces its team."""

    async def put(self, category: str, community: str, team_id: int, created_by: int | None) -> RouteRule:
        rule = await self.session.scalar(
            select(RouteRule).where(RouteRule.category == category, RouteRule.community == community))
        if rule is None:
            rule = RouteRule(category=category, community=community, team_id=team_id, created_by=created_by,
                             created_at=self.clock())
            self.session.add(rule)
        else:
            rule.team_id, rule.created_by = team_id, created_by
        with taken_if_not_unique():
            await self.session.flush()
        return rule

    async def every(self) -> Sequence[RouteRule]:
        return (await self.session.scalars(
            select(RouteRule).order_by(RouteRule.category, RouteRule.community, RouteRule.id))).all()

    async def for_category(self, category: str) -> Sequence[RouteRule]:
        return (await self.session.scalars(
            select(RouteRule).where(RouteRule.category == category).order_by(RouteRule.id))).all()

    async def delete(self, rule_id: int) -> bool:
        return await self._rowcount(delete(RouteRule).where(RouteRule.id == rule_id)) > 0


class BuildingRepository(_Repository):
    async def add(self, code: str, community: str, name: str) -> Building:
        building = Building(code=code, community=community, name=name, created_at=self.clock())
        self.session.add(building)
        await self.session.flush()
        return building

    async def get(self, building_id: int) -> Building | None:
        return await self.session.get(Building, building_id)

    async def by_code(self, code: str) -> Building | None:
        return await self.session.scalar(select(Building).where(func.lower(Building.code) == code.lower()))

    async def led_by(self, user_id: int) -> Sequence[Building]:
        return (await self.session.scalars(
            select(Building).where(Building.leader_id == user_id).order_by(Building.id))).all()

    async def every(self) -> Sequence[Building]:
        return (await self.session.scalars(select(Building).order_by(Building.community, Building.code))).all()


def household_key(community: str, building: str, flat: str) -> str:
    """The address a household is known by (docs/measures.md), in lower case."""
    return f"{community.strip().lower()}|{building.strip().lower()}|{flat.strip().lower()}"[:420]


class OrderRepository(_Repository):
    async def add(self, **fields: Any) -> Order:
        """A new order; its address becomes a reached household (once), replacing the resident's
        own "came by a building link" household when it is their own request."""
        now = self.clock()
        order = Order(created_at=now, updated_at=now, **fields)
        self.session.add(order)
        await self.session.flush()
        if not order.on_behalf:
            await self.session.execute(delete(ReachedHousehold).where(ReachedHousehold.key == f"u{order.resident_id}"))
        await self.session.execute(self._insert(ReachedHousehold).values(
            key=household_key(order.community, order.building, order.address_detail),
            community=order.community.strip().lower(), building_id=order.building_id, reached_at=now,
        ).on_conflict_do_nothing(index_elements=["key"]))
        return order

    async def get(self, order_id: int) -> Order | None:
        return await self.session.get(Order, order_id, populate_existing=True)

    async def transition(self, order_id: int, from_statuses: Iterable[str], to_status: str,
                         *, where: dict[str, Any] | None = None, unless: dict[str, Any] | None = None,
                         **values: Any) -> bool:
        """Move an order to ``to_status`` only if it is in one of ``from_statuses`` (and matches
        ``where``, and differs from ``unless`` — NULL differing from any value); returns whether
        this call made the change."""
        conditions = [Order.id == order_id, Order.status.in_(list(from_statuses))]
        conditions += [getattr(Order, column) == value for column, value in (where or {}).items()]
        conditions += [getattr(Order, column).is_distinct_from(value) for column, value in (unless or {}).items()]
        changed = await self._rowcount(
            update(Order).where(and_(*conditions))
            .values(status=to_status, updated_at=self.clock(), **values)
            .execution_options(synchronize_session=False)
        )
        return changed > 0

    async def of_resident(self, resident_id: int, limit: int = 10) -> Sequence[Order]:
        return (await self.session.scalars(
            select(Order).where(Order.resident_id == resident_id).order_by(Order.id.desc()).limit(limit))).all()

    async def count_placed(self, resident_id: int, on_behalf: bool, statuses: Iterable[str]) -> int:
        """How many of the person's own requests (or, ``on_behalf``, for neighbours) are in ``statuses``."""
        return int(await self.session.scalar(
            select(func.count(Order.id)).where(Order.resident_id == resident_id, Order.on_behalf == on_behalf,
                                               Order.status.in_(list(statuses)))) or 0)

    async def placed_since(self, resident_id: int, on_behalf: bool, since: dt.datetime) -> Sequence[dt.datetime]:
        """When the person placed each request (own, or for neighbours) after ``since``, oldest first."""
        return (await self.session.scalars(
            select(Order.created_at).where(Order.resident_id == resident_id, Order.on_behalf == on_behalf,
                                           Order.created_at > since).order_by(Order.created_at))).all()

    async def with_status(self, statuses: Iterable[str], limit: int | None = 50) -> Sequence[Order]:
        """Orders in ``statuses``, oldest first (``limit`` None: all of them)."""
        return (await self.session.scalars(
            select(Order).where(Order.status.in_(list(statuses))).order_by(Order.id).limit(limit))).all()

    async def record(self, order_id: int, actor_id: int | None, event: str, **detail: Any) -> None:
        """Append to the audit log."""
        self.session.add(OrderEvent(order_id=order_id, actor_id=actor_id, event=event, detail=detail,
                                    created_at=self.clock()))

    async def events(self, order_id: int) -> Sequence[OrderEvent]:
        return (await self.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))).all()

    # -- digests (bot.services.schedule.digests) ----------------------------------------------------------------
    async def waiting_since(self, statuses: Iterable[str], before: dt.datetime, urgent_before: dt.datetime,
                            limit: int = 500) -> Sequence[Order]:
        """Orders in ``statuses`` (waiting for someone to take them) since ``before`` (urgent ones:
        since ``urgent_before``), longest waiting first. ``updated_at`` is when they entered that status."""
        return (await self.session.scalars(
            select(Order).where(Order.status.in_(list(statuses)),
                                or_(and_(Order.urgent, Order.updated_at <= urgent_before),
                                    and_(~Order.urgent, Order.updated_at <= before)))
            .order_by(Order.updated_at, Order.id).limit(limit))).all()

    async def past_appointment(self, statuses: Iterable[str], before: dt.datetime,
                               limit: int = 500) -> Sequence[Order]:
        """Orders in ``statuses`` (someone holds them) whose agreed time was at or before ``before``,
        oldest first."""
        return (await self.session.scalars(
            select(Order).where(Order.status.in_(list(statuses)), Order.appointment_at <= before)
            .order_by(Order.appointment_at, Order.id).limit(limit))).all()

    async def of_team(self, team_id: int, statuses: Iterable[str], limit: int = 100) -> Sequence[Order]:
        return (await self.session.scalars(
            select(Order).where(Order.team_id == team_id, Order.status.in_(list(statuses)))
            .order_by(Order.id).limit(limit))).all()

    async def closed_by_team(self, start: dt.datetime, end: dt.datetime, *,
                             closed: str) -> dict[int, tuple[int, int]]:
        """Orders closed (status ``closed``) in ``[start, end)`` (``updated_at`` of a closed order is
        when it closed), per team: (how many, how many of them as "no response")."""
        rows = await self.session.execute(
            select(Order.team_id, Order.no_response, func.count(Order.id))
            .where(Order.status == closed, Order.team_id.is_not(None), Order.updated_at >= start,
                   Order.updated_at < end)
            .group_by(Order.team_id, Order.no_response))
        counts: dict[int, tuple[int, int]] = {}
        for team_id, no_response, count in rows.all():
            if team_id is None:
                continue  # excluded by the query; the column itself is nullable
            total, silent = counts.get(team_id, (0, 0))
            counts[team_id] = (total + count, silent + (count if no_response else 0))
        return counts

    # -- housekeeping (bot.services.housekeeping) ---------------------------------------------------
    async def cards_in(self, statuses: Iterable[str]) -> Sequence[tuple[int | None, dict[str, Any] | None]]:
        """The team cards (outbox row ids) of orders in ``statuses``: each order's own card and the
        cards the escalation ladder offered to other teams (team id → row id)."""
        return [tuple(row) for row in (await self.session.execute(
            select(Order.card_outbox_id, Order.offer_cards).where(Order.status.in_(list(statuses))))).all()]

    async def event_details_in(self, statuses: Iterable[str], events: Iterable[str]) -> Sequence[dict[str, Any]]:
        """The audit log's details of ``events`` of orders in ``statuses`` (one query through the
        orders' status index and the events' order index)."""
        return (await self.session.scalars(
            select(OrderEvent.detail).join(Order, Order.id == OrderEvent.order_id)
            .where(Order.status.in_(list(statuses)), OrderEvent.event.in_(list(events))))).all()


    # -- retention (bot.services.retention) ---------------------------------------------------------------
    async def contacts_kept(self, statuses: Iterable[str], finished_before: dt.datetime,
                            limit: int) -> Sequence[tuple[int, str]]:
        """Orders in ``statuses`` (finished) since before ``finished_before`` whose contact is still
        kept, oldest first, as (id, description) (``ix_orders_retention``). On PostgreSQL the rows are
        locked and those another pass holds are skipped."""
        statement = (select(Order.id, Order.description)
                     .where(Order.contact_erased_at.is_(None), Order.status.in_(list(statuses)),
                            Order.updated_at <= finished_before)
                     .order_by(Order.updated_at, Order.id).limit(limit))
        if self._postgresql():
            statement = statement.with_for_update(skip_locked=True)
        return [(order_id, description) for order_id, description in await self.session.execute(statement)]

    async def erase_contacts(self, descriptions: dict[int, str], statuses: Iterable[str],
                             finished_before: dt.datetime) -> int:
        """Erase the contact's name, phone and address, the voice note and the photo of these orders
        (each given the description it keeps), if still finished and not erased yet; returns how many."""
        erased = 0
        for order_id, description in descriptions.items():
            erased += await self._rowcount(
                update(Order).where(Order.id == order_id, Order.contact_erased_at.is_(None),
                                    Order.status.in_(list(statuses)), Order.updated_at <= finished_before)
                .values(contact_name="", contact_phone="", address_detail="", voice_file_id=None,
                        photo_file_id=None, description=description, contact_erased_at=self.clock())
                .execution_options(synchronize_session=False))
        return erased


class RatingRepository(_Repository):
    async def add(self, order_id: int, round_: int, resident_id: int, *, stars: int | None,
                  solved: bool) -> bool:
        """Record a rating; False if this round of the order was already rated."""
        return await self._rowcount(
            self._insert(Rating).values(order_id=order_id, round=round_, resident_id=resident_id,
                                        stars=stars, solved=solved, created_at=self.clock())
            .on_conflict_do_nothing(index_elements=["order_id", "round"])
        ) > 0

    async def get(self, order_id: int, round_: int) -> Rating | None:
        return await self.session.scalar(select(Rating).where(Rating.order_id == order_id, Rating.round == round_))

    async def closed_by_team(self, start: dt.datetime, end: dt.datetime, *,
                             closed: str) -> dict[int, tuple[int, float]]:
        """The star ratings that closed orders (status ``closed``) in ``[start, end)`` (each order's
        last round), per team: (how many, their average). Orders closed as "no response" have none.

        Driven by the month's closed orders (``ix_orders_status_time``), each one's rating looked up
        by its key, once (grouped by the stars themselves, so no backend evaluates the lookup again
        for a count and an average): a join would let the planner read every rating of two years
        to find the month's."""
        if self._postgresql():
            # The planner prices the month's ~40,000 lookups above JIT's threshold, and compiling
            # the query then costs more than running it (200 of 350 ms at district scale).
            await self.session.execute(text("SET LOCAL jit = off"))
        stars = (select(Rating.stars).where(Rating.order_id == Order.id, Rating.round == Order.round)
                 .correlate(Order).scalar_subquery().label("stars"))
        rows = await self.session.execute(
            select(Order.team_id, stars, func.count())
            .where(Order.status == closed, Order.team_id.is_not(None), Order.updated_at >= start,
                   Order.updated_at < end)
            .group_by(Order.team_id, stars))
        tallies: dict[int, tuple[int, int]] = {}
        for team_id, given, count in rows.all():
            if given is not None:
                rated, total = tallies.get(team_id, (0, 0))
                tallies[team_id] = (rated + count, total + given * count)
        return {team_id: (rated, total / rated) for team_id, (rated, total) in tallies.items()}


class DialogRepository(_Repository):
    async def get(self, user_id: int) -> Dialog | None:
        return await self.session.get(Dialog, user_id, populate_existing=True)

    async def set(self, user_id: int, flow: str, step: str, data: dict[str, Any]) -> None:
        dialog = await self.get(user_id)
        if dialog is None:
            self.session.add(Dialog(user_id=user_id, flow=flow, step=step, data=dict(data), updated_at=self.clock()))
        else:
            dialog.flow, dialog.step, dialog.data, dialog.updated_at = flow, step, dict(data), self.clock()
        await self.session.flush()

    async def clear(self, user_id: int) -> None:
        await self.session.execute(delete(Dialog).where(Dialog.user_id == user_id))

    async def finish(self, user_id: int, flow: str, step: str) -> bool:
        """End the person's dialog if it is still ``flow`` at ``step``; False if another update
        (a second tap of the same button) got there first."""
        return await self._rowcount(delete(Dialog).where(Dialog.user_id == user_id, Dialog.flow == flow,
                                                         Dialog.step == step)) > 0

    async def every(self) -> Sequence[Dialog]:
        """Every dialog in progress (one per person at most: a small table)."""
        return (await self.session.scalars(select(Dialog))).all()


class ScheduleRepository(_Repository):
    """The schedule (see :class:`ScheduledItem`). Race-free by construction: an item is taken under a
    row lock (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite's write lock is taken at BEGIN) and
    finished in the same transaction."""

    async def add(self, kind: str, due_at: dt.datetime, *, order_id: int | None = None, user_id: int | None = None,
                  team_id: int | None = None, activity_id: int | None = None, step: int = 0,
                  key: str | None = None) -> bool:
        """Schedule an item; with ``key``, nothing happens if an item with that key exists (False)."""
        values = {"kind": kind, "due_at": due_at, "order_id": order_id, "user_id": user_id, "team_id": team_id,
                  "activity_id": activity_id, "step": step, "key": key, "state": "pending", "attempts": 0,
                  "created_at": self.clock()}
        statement = self._insert(ScheduledItem).values(**values)
        if key is not None:
            statement = statement.on_conflict_do_nothing(index_elements=["key"])
        return await self._rowcount(statement) > 0

    async def cancel(self, order_id: int, kinds: Iterable[str] | None = None) -> int:
        """Cancel an order's pending items (of ``kinds``, or all): the order has moved on."""
        statement = update(ScheduledItem).where(ScheduledItem.order_id == order_id, ScheduledItem.state == "pending")
        if kinds is not None:
            statement = statement.where(ScheduledItem.kind.in_(list(kinds)))
        return await self._rowcount(statement.values(state="cancelled", fired_at=self.clock()))

    async def cancel_activity(self, activity_id: int, kinds: Iterable[str] | None = None) -> int:
        """Cancel an activity's pending items (of ``kinds``, or all): it was cancelled or changed."""
        statement = update(ScheduledItem).where(ScheduledItem.activity_id == activity_id,
                                                ScheduledItem.state == "pending")
        if kinds is not None:
            statement = statement.where(ScheduledItem.kind.in_(list(kinds)))
        return await self._rowcount(statement.values(state="cancelled", fired_at=self.clock()))

    async def take_due(self, now: dt.datetime, limit: int) -> Sequence[ScheduledItem]:
        """Due pending items, oldest first, locked for this transaction (skipping any another
        process holds)."""
        statement = (select(ScheduledItem).where(ScheduledItem.state == "pending", ScheduledItem.due_at <= now)
                     .order_by(ScheduledItem.due_at, ScheduledItem.id).limit(limit))
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        return (await self.session.scalars(statement)).all()

    async def later_step_due(self, item: ScheduledItem, now: dt.datetime) -> int | None:
        """The highest later step of ``item``'s ladder (same order and kind, scheduled with it or
        after) that is due by ``now`` and not cancelled — pending, or already fired by another
        process; None when there is none."""
        return await self.session.scalar(
            select(func.max(ScheduledItem.step)).where(
                ScheduledItem.order_id == item.order_id, ScheduledItem.kind == item.kind,
                ScheduledItem.step > item.step, ScheduledItem.due_at <= now,
                ScheduledItem.created_at >= item.created_at,
                ScheduledItem.state.in_(("pending", "done", "skipped"))))


KEPT_PAYLOAD_KEYS = frozenset({"method", "parse_mode", "protect_content", "list", "reread", "forget_offer"})
"""What a finished outbox row (sent, failed or superseded) keeps of its payload: how it was sent, a
list's query (its page buttons rebuild the list) and the mark of a /forget question (its buttons
are honoured only on the question's own row: ``bot.services.privacy``). The rest — text, caption, buttons, a voice
note's or photo's file id, an attachment's description — may name a person and goes in the
statement that finishes the row; later edits bring their own text, and the sender needs only the
target's chat and message ids."""
REREAD = "reread"
FORGET_OFFER = "forget_offer"
"""Payload key of a message whose text later edits extend (the centre's card of an order,
``bot.views.centre``): its text is kept. Such a text is made of redacted fields only."""


def finished_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as a finished row keeps it (see :data:`KEPT_PAYLOAD_KEYS`)."""
    kept = {key: value for key, value in payload.items() if key in KEPT_PAYLOAD_KEYS}
    if payload.get(REREAD) and "text" in payload:
        kept["text"] = payload["text"]
    return kept


class OutboxRepository(_Repository):
    """The outbox: rows queued by the work that causes them, claimed and settled by the sender
    (``bot.adapters.sender``). ``queued`` collects the ids of the rows this unit of work wrote, for
    the sender's fast path (``UnitOfWork(after_commit=...)``). A row that finishes keeps only
    :func:`finished_payload` of its payload."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        super().__init__(session, clock)
        self.queued: list[int] = []

    async def send(self, chat_id: int, payload: dict[str, Any], *, recipient_user_id: int | None = None,
                   method: str = "sendMessage") -> OutboxMessage:
        """Queue a new message; returns the row, whose id later edits refer to."""
        row = OutboxMessage(kind="send", chat_id=chat_id, recipient_user_id=recipient_user_id,
                            payload={"method": method, **payload}, not_before=self.clock(),
                            created_at=self.clock())
        self.session.add(row)
        await self.session.flush()
        self.queued.append(row.id)
        return row

    async def edit(self, target_id: int, payload: dict[str, Any]) -> OutboxMessage:
        """Queue an edit of the message a queued send created; older unsent edits are superseded."""
        target = await self.session.get(OutboxMessage, target_id)
        assert target is not None
        await self._finish(
            update(OutboxMessage).where(OutboxMessage.target_id == target_id, OutboxMessage.status == "pending")
            .values(status="superseded"))
        row = OutboxMessage(kind="edit", chat_id=target.chat_id, target_id=target_id,
                            payload={"method": "editMessageText", **payload}, not_before=self.clock(),
                            created_at=self.clock())
        self.session.add(row)
        await self.session.flush()
        self.queued.append(row.id)
        return row

    @staticmethod
    def _claimable(now: dt.datetime) -> ColumnElement[bool]:
        """Due and pending, or claimed by a sender whose lease ran out."""
        return or_(and_(OutboxMessage.status == "pending", OutboxMessage.not_before <= now),
                   and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now))

    def _due(self, now: dt.datetime) -> Select[OutboxMessage]:
        return select(OutboxMessage).where(self._claimable(now)).order_by(OutboxMessage.id)

    async def due(self, now: dt.datetime, limit: int) -> Sequence[OutboxMessage]:
        """Rows ready to send (and rows whose sender's claim expired), oldest first."""
        return (await self.session.scalars(self._due(now).limit(limit))).all()

    async def claim(self, row_id: int, now: dt.datetime, lease: dt.timedelta, *, claimant: str | None = None) -> bool:
        """Take a row for sending; False if another sender took it first."""
        return await self._rowcount(
            update(OutboxMessage).where(OutboxMessage.id == row_id, self._claimable(now))
            .values(status="sending", claimed_until=now + lease, attempts=OutboxMessage.attempts + 1,
                    claimed_by=claimant)
        ) > 0

    async def reclaim_earlier_boots(self, instance: str, claimant: str, now: dt.datetime) -> int:
        """Rows an earlier boot of ``instance`` was sending when it died go back to pending now,
        not when their lease runs out (``claimant`` is this boot: "<instance>#<boot>"); returns how
        many. The dead claim keeps its attempt: a row that kills its sender is not retried for ever."""
        return await self._rowcount(
            update(OutboxMessage).where(OutboxMessage.status == "sending",
                                        OutboxMessage.claimed_by.startswith(f"{instance}#", autoescape=True),
                                        OutboxMessage.claimed_by != claimant)
            .values(status="pending", not_before=now, claimed_until=None, claimed_by=None))

    async def claim_heads(self, row_ids: Collection[int], now: dt.datetime, lease: dt.timedelta, *,
                          exclude_chats: Collection[int] = (), claimant: str | None = None,
                          ) -> Sequence[OutboxMessage]:
        """Take, in one statement, those of ``row_ids`` that are due and first in line for their
        chat (no older row of the chat pending or being sent), except rows to ``exclude_chats``;
        returns the rows taken, with their attempt counts. A row another sender took, or one
        behind an older row, is left alone: the condition is checked by the database, so it
        holds across processes."""
        if not row_ids:
            return []
        earlier = aliased(OutboxMessage)
        queued_before = select(earlier.id).where(
            earlier.chat_id == OutboxMessage.chat_id, earlier.id < OutboxMessage.id,
            earlier.status.in_(["pending", "sending"])).exists()
        statement = update(OutboxMessage).where(OutboxMessage.id.in_(list(row_ids)), ~queued_before,
                                                self._claimable(now))
        if exclude_chats:
            statement = statement.where(OutboxMessage.chat_id.not_in(list(exclude_chats)))
        statement = statement.values(status="sending", claimed_until=now + lease,
                                     attempts=OutboxMessage.attempts + 1, claimed_by=claimant)
        claimed = await self.session.scalars(statement.returning(OutboxMessage),
                                             execution_options={"synchronize_session": False})
        return sorted(claimed.all(), key=lambda row: row.id)

    async def unfinished(self, *, row_ids: Collection[int] | None = None,
                         per_chat: int = 1, limit: int = 1000) -> Sequence[tuple[int, int, dt.datetime | None]]:
        """Rows still pending or being sent, as (id, chat id, the moment it may be taken): the
        first ``per_chat`` of each chat, oldest first, or only those among ``row_ids``. The moment
        is ``not_before`` for a pending row and the lease's end for one being sent."""
        moment = case((OutboxMessage.status == "pending", OutboxMessage.not_before),
                      else_=OutboxMessage.claimed_until)
        place = func.row_number().over(partition_by=OutboxMessage.chat_id, order_by=OutboxMessage.id)
        inner = select(OutboxMessage.id, OutboxMessage.chat_id, moment.label("moment"), place.label("place")).where(
            OutboxMessage.status.in_(["pending", "sending"]))
        if row_ids is not None:
            inner = inner.where(OutboxMessage.id.in_(list(row_ids)))
        ranked = inner.subquery()
        statement = select(ranked.c.id, ranked.c.chat_id, ranked.c.moment).order_by(ranked.c.id).limit(limit)
        if row_ids is None:
            statement = statement.where(ranked.c.place <= per_chat)
        return [(row_id, chat_id, moment) for row_id, chat_id, moment in await self.session.execute(statement)]

    async def mark_sent_many(self, outcomes: Iterable[tuple[int, int, int | None, dt.datetime]]) -> None:
        """Several rows sent: (row id, chat id, message id, when), in one executemany. A row that is
        gone meanwhile (pruned) is no error: nothing is left to record."""
        outcomes = list(outcomes)
        if not outcomes:
            return
        payloads = await self._finished_payloads(row_id for row_id, *_ in outcomes)
        rows = [{"b_id": row_id, "b_chat": chat_id, "b_message": message_id, "b_at": sent_at,
                 "b_payload": payloads.get(row_id, {})}
                for row_id, chat_id, message_id, sent_at in outcomes]
        table = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]  # a Core executemany
        await self.session.execute(
            update(table).where(table.c.id == bindparam("b_id"))
            .values(status="sent", sent_chat_id=bindparam("b_chat"), message_id=bindparam("b_message"),
                    sent_at=bindparam("b_at"), error=None, payload=bindparam("b_payload")), rows)

    async def _finished_payloads(self, row_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """What these rows keep of their payloads once finished, by id (rows gone are left out)."""
        rows = await self.session.execute(select(OutboxMessage.id, OutboxMessage.payload)
                                          .where(OutboxMessage.id.in_(list(row_ids))))
        return {row_id: finished_payload(payload or {}) for row_id, payload in rows}

    async def _finish(self, statement: Any) -> int:
        """Run an UPDATE that finishes rows (failed, superseded) and strip their payloads in the same
        transaction; how many rows it finished."""
        row_ids = (await self.session.scalars(statement.returning(OutboxMessage.id),
                                              execution_options={"synchronize_session": False})).all()
        payloads = await self._finished_payloads(row_ids)
        if payloads:
            table = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
            await self.session.execute(update(table).where(table.c.id == bindparam("b_id"))
                                       .values(payload=bindparam("b_payload")),
                                       [{"b_id": row_id, "b_payload": payload} for row_id, payload in payloads.items()])
        return len(row_ids)

    async def get(self, row_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, row_id, populate_existing=True)

    async def by_ids(self, row_ids: Iterable[int]) -> dict[int, OutboxMessage]:
        """Several rows in one query, by id."""
        ids = list(row_ids)
        if not ids:
            return {}
        rows = await self.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        return {row.id: row for row in rows}

    async def mark_sent(self, row_id: int, chat_id: int, message_id: int | None) -> None:
        await self.mark_sent_many([(row_id, chat_id, message_id, self.clock())])

    async def retry_later(self, row_id: int, not_before: dt.datetime, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id)
            .values(status="pending", not_before=not_before, claimed_until=None, error=error[:256]))

    async def fail(self, row_id: int, error: str) -> None:
        await self._finish(
            update(OutboxMessage).where(OutboxMessage.id == row_id)
            .values(status="failed", claimed_until=None, error=error[:256]))

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: unsent rows follow it to the new id."""
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.chat_id == old_chat_id,
                                        OutboxMessage.status.in_(["pending", "sending"]))
            .values(chat_id=new_chat_id))

    async def withdraw(self, row_id: int) -> bool:
        """A queued message no longer wanted: superseded if no sender took it yet (True); False
        once it is being sent or finished (decided by the conditional UPDATE, across processes)."""
        return await self._rowcount(
            update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
            .values(status="superseded")) > 0

    async def keep_only(self, row_id: int, payload: dict[str, Any]) -> None:
        """Replace what a finished row sent (it is not sent again) by ``payload``; a row still
        pending or being sent keeps its own."""
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status.in_(["sent", "failed"]))
            .values(payload=payload).execution_options(synchronize_session=False))

    async def postpone(self, row_id: int, not_before: dt.datetime, error: str | None = None) -> None:
        """Put a claimed row back without counting the claim as an attempt (flood wait, migration)."""
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status == "sending")
            .values(status="pending", not_before=not_before, claimed_until=None,
                    attempts=OutboxMessage.attempts - 1, error=None if error is None else error[:256]))

    async def put_back_many(self, moments: Iterable[tuple[int, dt.datetime]]) -> None:
        """Claimed rows go back to pending, each until its moment, as if never claimed (the shared
        pacing refused them in the claim's own transaction)."""
        rows = [{"b_id": row_id, "b_at": moment} for row_id, moment in moments]
        if not rows:
            return
        table = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
        await self.session.execute(
            update(table).where(table.c.id == bindparam("b_id"), table.c.status == "sending")
            .values(status="pending", not_before=bindparam("b_at"), claimed_until=None, claimed_by=None,
                    attempts=table.c.attempts - 1), rows)

    async def fail_pending(self, chat_id: int, error: str) -> int:
        """Fail every row still waiting for this chat (the bot was blocked or removed); how many."""
        return await self._finish(
            update(OutboxMessage).where(OutboxMessage.chat_id == chat_id, OutboxMessage.status == "pending")
            .values(status="failed", claimed_until=None, error=error[:256]))

    async def reached(self, chat_id: int) -> bool:
        """Whether a message to ``chat_id`` was ever delivered (for a person: they started the bot).
        Rows without a message id (a chat's command menu) do not count: they reach no chat."""
        return await self.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.chat_id == chat_id, OutboxMessage.status == "sent",
                                           OutboxMessage.message_id.is_not(None)).limit(1)) is not None

    async def pending_count(self) -> int:
        return await self.session.scalar(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(["pending", "sending"]))) or 0

    # -- housekeeping (bot.services.housekeeping) ---------------------------------------------------
    async def prune_candidates(self, status: str, created_before: dt.datetime, after: tuple[dt.datetime, int] | None,
                               limit: int) -> Sequence[tuple[int, dt.datetime]]:
        """Up to ``limit`` rows in ``status`` created before ``created_before``, as (id, created_at),
        oldest first from the ``after`` cursor (a previous batch's last row) — a range of the
        ``(status, created_at)`` index. On PostgreSQL they are locked for this transaction and rows
        another transaction holds are skipped (another pruner's batch, a row an edit is being
        queued for)."""
        statement = select(OutboxMessage.id, OutboxMessage.created_at).where(
            OutboxMessage.status == status, OutboxMessage.created_at < created_before)
        if after is not None:
            created_at, row_id = after
            statement = statement.where(
                OutboxMessage.created_at >= created_at,  # the index's range; the rest settles ties
                or_(OutboxMessage.created_at > created_at, OutboxMessage.id > row_id))
        statement = statement.order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit)
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        return [(row_id, created_at) for row_id, created_at in (await self.session.execute(statement)).all()]

    async def prune(self, row_ids: Collection[int]) -> int:
        """Delete these rows, taken by :meth:`prune_candidates` in this transaction (so still
        finished and old: SQLite's write lock or PostgreSQL's row locks held them since; found by
        primary key, not by a second walk of the index); how many went. Two kinds stay whatever the
        caller asks: a row an edit still targets (the edit needs its message; it can go once its
        edits went) and each chat's latest delivered message (a send: an edit was delivered only if
        its message was), so :meth:`reached` answers as before."""
        if not row_ids:
            return 0
        edit, later = aliased(OutboxMessage), aliased(OutboxMessage)
        targeted = select(edit.id).where(edit.target_id == OutboxMessage.id).exists()
        delivered = and_(OutboxMessage.kind == "send", OutboxMessage.status == "sent",
                         OutboxMessage.message_id.is_not(None))
        delivered_later = select(later.id).where(
            later.chat_id == OutboxMessage.chat_id, later.status == "sent", later.id > OutboxMessage.id,
            later.kind == "send", later.message_id.is_not(None)).exists()
        keepers = or_(targeted, and_(delivered, ~delivered_later))
        return await self._rowcount(delete(OutboxMessage).where(OutboxMessage.id.in_(list(row_ids)), ~keepers)
                                    .execution_options(synchronize_session=False))


class ParkedUpdateRepository(_Repository):
    """Inbound updates we could not handle (see :class:`ParkedUpdate`)."""

    async def park(self, update_id: int, kind: str, error_type: str, reason: str, payload: dict[str, Any]) -> int:
        """Record a failed update (again: a replay that failed once more counts one more attempt);
        returns the row's id."""
        now = self.clock()
        failure = {"error_type": error_type[:64], "reason": reason[:256], "failed_at": now}
        statement = self._insert(ParkedUpdate).values(
            update_id=update_id, kind=kind[:32], payload=payload, state="parked", attempts=1, parked_at=now,
            **failure)
        statement = statement.on_conflict_do_update(
            index_elements=["update_id"],
            set_={**failure, "state": "parked", "attempts": ParkedUpdate.attempts + 1})
        await self.session.execute(statement)
        row_id = await self.session.scalar(select(ParkedUpdate.id).where(ParkedUpdate.update_id == update_id))
        assert row_id is not None
        return row_id

    async def all(self) -> Sequence[ParkedUpdate]:
        return (await self.session.scalars(select(ParkedUpdate).order_by(ParkedUpdate.id))).all()

    async def request_replay(self, row_id: int) -> bool:
        """Ask the running bot to handle a parked update again; False if there is no such parked row."""
        return await self._rowcount(
            update(ParkedUpdate).where(ParkedUpdate.id == row_id, ParkedUpdate.state.in_(("parked", "replay")))
            .values(state="replay")) > 0

    async def replays(self, limit: int) -> Sequence[ParkedUpdate]:
        """Rows an operator asked to replay, oldest first."""
        return (await self.session.scalars(
            select(ParkedUpdate).where(ParkedUpdate.state == "replay").order_by(ParkedUpdate.id).limit(limit))).all()

    async def drop(self, row_id: int) -> bool:
        """Delete a parked update (it will never be handled); False if there is none with this id."""
        return await self._rowcount(delete(ParkedUpdate).where(ParkedUpdate.id == row_id)) > 0

    async def forget(self, update_id: int) -> int:
        """Delete the row of an update that has now been handled."""
        return await self._rowcount(delete(ParkedUpdate).where(ParkedUpdate.update_id == update_id))

    async def prune(self, parked_before: dt.datetime) -> int:
        """Delete rows parked before ``parked_before`` (the retention period is over); how many."""
        return await self._rowcount(delete(ParkedUpdate).where(ParkedUpdate.parked_at < parked_before))


class ProcessedUpdateRepository(_Repository):
    """The ids of handled updates (see :mod:`storage.uow`): needed only while Telegram may deliver
    an update again."""

    async def prune(self, seen_before: dt.datetime, limit: int) -> int:
        """Delete up to ``limit`` of the oldest ids seen before ``seen_before`` (a range of the
        ``seen_at`` index); how many went. On PostgreSQL rows another pruner is deleting are skipped."""
        oldest = (select(ProcessedUpdate.key).where(ProcessedUpdate.seen_at < seen_before)
                  .order_by(ProcessedUpdate.seen_at).limit(limit))
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            oldest = oldest.with_for_update(skip_locked=True)
        return await self._rowcount(delete(ProcessedUpdate).where(ProcessedUpdate.key.in_(oldest.scalar_subquery()))
                                    .execution_options(synchronize_session=False))
