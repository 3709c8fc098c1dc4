"""The rows of a district-sized database and how to write them fast (``bench/district.py`` builds
its cache with them; ``tests/storage/test_plans.py`` writes a small sample of the same shape, so the
planners see the district's proportions). Plain data and drivers only: nothing of the bot.

Two years of a district up to ``NOW``: 20 teams (each serving one category), five coordinators,
200,000 residents, 130,000 volunteers (70 % on Telegram; 90 % approved; three leaders a team; 1 %
businesses; one to three skills; 40 communities) and 1,000,000 orders placed evenly over the two
years: those older than three days closed (95 %, a tenth of them as "no response"), cancelled or
rejected; newer ones anywhere in the loop. Each order has its audit events along the usual path,
a rating when it closed with one, and its schedule rows (done or cancelled; pending and ahead of
``NOW`` for orders someone holds), so an idle sweep at ``NOW`` finds nothing due.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.engine import make_url

NOW = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 on 2 November in Asia/Shanghai
HISTORY = dt.timedelta(days=730)
RECENT = dt.timedelta(days=3)  # orders placed since then may still be open
VOLUNTEERS, RESIDENTS, ORDERS = 130_000, 200_000, 1_000_000
TEAMS, COMMUNITIES, COORDINATORS = 20, 40, 5
VERA, RITA = COORDINATORS + 1, COORDINATORS + 2  # the cast's volunteer and resident (user ids)
CHUNK = 20_000

Rows = Iterator[tuple[str, list[tuple[Any, ...]]]]


class Kinds(NamedTuple):
    """The schedule kinds the rows name (``bot.services.timetable``'s)."""

    escalate: str
    lease: str
    appointment: str
    rating: str


COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "telegram_id", "first_name", "language", "is_coordinator", "unreachable", "on_duty",
              "menu_roles", "created_at"),
    "teams": ("id", "code", "name", "categories", "chat_id", "active", "created_at"),
    "volunteers": ("id", "user_id", "team_id", "name", "phone", "status", "community", "skills", "source",
                   "occupation", "hobbies", "kind", "organisation", "is_leader", "created_at", "decided_at"),
    "orders": ("id", "resident_id", "status", "category", "urgent", "description", "community", "building",
               "address_detail", "when_text", "contact_name", "contact_phone", "team_id", "volunteer_id", "hours",
               "round", "on_behalf", "appointment_at", "no_response", "created_at", "updated_at"),
    "order_events": ("id", "order_id", "actor_id", "event", "detail", "created_at"),
    "ratings": ("id", "order_id", "round", "resident_id", "stars", "solved", "created_at"),
    "schedule": ("id", "kind", "order_id", "user_id", "team_id", "step", "due_at", "state", "attempts",
                 "created_at", "fired_at"),
}
JSON_COLUMNS = {"categories", "skills", "detail"}
PATH = ("created", "dispatched", "accepted", "done", "closed")  # the audit events of an order's usual life


def team_chat(team_id: int) -> int:
    return -1_001_000_000_000 - team_id


def community(number: int) -> str:
    return f"Community {number:02d}"


def cast(categories: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows both databases hold: the teams, the coordinators, one volunteer (leader of team 1), one resident."""
    start = NOW - HISTORY
    teams = [(t, f"t{t:02d}", f"Team {t:02d}", [categories[(t - 1) % len(categories)]],
              team_chat(t), True, start) for t in range(1, TEAMS + 1)]
    users = [(u, 8_000_000_000 + u, f"coordinator{u}", "en", True, False, True, "", start)
             for u in range(1, COORDINATORS + 1)]
    users += [(VERA, 8_000_000_000 + VERA, "Vera", "en", False, False, True, "", start),
              (RITA, 8_000_000_000 + RITA, "Rita", "en", False, False, True, "", start)]
    volunteers = [(1, VERA, 1, "Vera", "+8613800000001", "approved", community(7), [categories[0], "repair"],
                   "bot", "", "", "resident", "", True, start, start)]
    return {"teams": teams, "users": users, "volunteers": volunteers}


def district(scale: float, categories: Sequence[str], kinds: Kinds, *, people: float | None = None,
             seed: int = 11) -> Rows:
    """The bulk rows of a district, table by table in chunks (ids follow the cast's); ``people``
    scales the residents and volunteers apart from the orders (default: as ``scale``)."""
    rng = random.Random(seed)
    people = scale if people is None else people
    volunteers, residents = (max(1, round(n * people)) for n in (VOLUNTEERS, RESIDENTS))
    orders = max(1, round(ORDERS * scale))
    start = NOW - HISTORY
    first_user = RITA + 1
    with_telegram = volunteers * 7 // 10  # the others came from the roster and never started the bot
    volunteer_users = list(range(first_user + residents, first_user + residents + with_telegram))
    resident_users = range(first_user, first_user + residents)

    users = [(u, 8_000_000_000 + u, f"person{u}", "zh", False, False, rng.random() < 0.8, "", start)
             for u in (*resident_users, *volunteer_users)]
    for chunk in range(0, len(users), CHUNK):
        yield "users", users[chunk:chunk + CHUNK]
    del users

    leaders: dict[int, int] = {}
    rows = []
    for index in range(volunteers):
        team = rng.randint(1, TEAMS)
        user = volunteer_users[index] if index < with_telegram else None
        status = rng.choices(("approved", "pending", "rejected"), (90, 5, 5))[0]
        leader = user is not None and status == "approved" and leaders.get(team, 0) < 3
        leaders[team] = leaders.get(team, 0) + leader
        business = rng.random() < 0.01
        rows.append((index + 2, user, team, f"volunteer{index}", f"+86139{index:08d}", status,
                     community(rng.randint(1, COMMUNITIES)), rng.sample(categories, rng.randint(1, 3)),
                     "bot" if user else "roster", "", "", "business" if business else "resident",
                     f"shop{index}" if business else "", leader, start, start))
    for chunk in range(0, len(rows), CHUNK):
        yield "volunteers", rows[chunk:chunk + CHUNK]
    del rows

    span = HISTORY.total_seconds()
    event_id = rating_id = item_id = 0
    for chunk in range(0, orders, CHUNK):
        order_rows, events, ratings, items = [], [], [], []
        for order_id in range(chunk + 1, min(orders, chunk + CHUNK) + 1):
            created = start + dt.timedelta(seconds=span * (order_id - 0.5) / orders)
            recent = NOW - created < RECENT
            if recent:
                status = rng.choices(("new", "dispatched", "accepted", "on_way", "done", "closed"),
                                     (10, 20, 20, 10, 15, 25))[0]
            else:
                status = rng.choices(("closed", "cancelled", "rejected"), (95, 3, 2))[0]
            team = rng.randint(1, TEAMS)
            category = categories[(team - 1) % len(categories)]
            resident = rng.choice(resident_users)
            taken = status in ("accepted", "on_way", "done", "closed")
            volunteer = rng.choice(volunteer_users) if taken and volunteer_users else None
            settled = min(NOW - dt.timedelta(minutes=1), created + dt.timedelta(hours=rng.uniform(1, 48)))
            updated = settled if not recent or status in ("closed", "cancelled", "rejected") else created
            no_response = status == "closed" and rng.random() < 0.1
            appointment = created + dt.timedelta(days=1) if rng.random() < 0.3 else None
            if appointment is not None and status in ("accepted", "on_way") and appointment < NOW:
                appointment = NOW + dt.timedelta(hours=2)  # an open order's agreed time is still ahead
            order_rows.append((
                order_id, resident, status, category, rng.random() < 0.1, "厨房水管漏水，需要上门看看", community(
                    rng.randint(1, COMMUNITIES)), f"Building {rng.randint(1, 60)}", f"Unit {rng.randint(1, 800)}",
                "tomorrow morning", "—", "+8613700000000", None if status in ("new", "rejected") else team,
                volunteer, 1.5 if status in ("done", "closed") else None, 1, False, appointment, no_response,
                created, updated))
            path = {"new": 1, "dispatched": 2, "accepted": 3, "on_way": 3, "done": 4, "closed": 5}.get(status, 2)
            for step, name in enumerate(PATH[:path]):
                event_id += 1
                actor = resident if step == 0 else volunteer if name in ("accepted", "done") else None
                events.append((event_id, order_id, actor, name, {}, created + (updated - created) * step / 5))
            if status in ("cancelled", "rejected"):
                event_id += 1
                events.append((event_id, order_id, None, status, {}, updated))
            if status == "closed" and not no_response:
                rating_id += 1
                ratings.append((rating_id, order_id, 1, resident, rng.choice((3, 4, 5, 5, 5)), True, updated))
            if status in ("closed", "cancelled", "rejected"):
                item_id += 2
                items.append((item_id - 1, kinds.escalate, order_id, None, team, 1, created + dt.timedelta(minutes=30),
                              "cancelled", 0, created, settled))
                items.append((item_id, kinds.rating, order_id, resident, None, 1, settled + dt.timedelta(hours=24),
                              "done" if status == "closed" else "cancelled", 0, settled, settled))
            elif status in ("accepted", "on_way"):
                item_id += 1
                items.append((item_id, kinds.appointment if appointment else kinds.lease, order_id, volunteer, team, 0,
                              (appointment or NOW) + dt.timedelta(hours=1), "pending", 0, updated, None))
        yield "orders", order_rows
        yield "order_events", events
        yield "ratings", ratings
        yield "schedule", items


@dataclass(frozen=True)
class Layout:
    """The tables a bulk load writes: each table's columns in row order, and which columns hold JSON."""

    columns: Mapping[str, tuple[str, ...]]
    json_columns: frozenset[str]


DISTRICT = Layout(COLUMNS, frozenset(JSON_COLUMNS))


def _sqlite_value(value: Any, column: str, layout: Layout) -> Any:
    if column in layout.json_columns:
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format
    return value


def write_sqlite(path: Path, tables: Rows, layout: Layout = DISTRICT) -> None:
    """Plain executemany on one connection (the bot's engine would add nothing but overhead here)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.execute("PRAGMA cache_size=-200000")
        for table, rows in tables:
            columns = layout.columns[table]
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                ([_sqlite_value(v, c, layout) for v, c in zip(row, columns, strict=True)] for row in rows))
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


async def write_postgresql(url: str, schema: str, tables: Rows, layout: Layout = DISTRICT) -> None:
    """COPY, chunk by chunk; then the id sequences past the ids written, and VACUUM ANALYZE (what autovacuum
    would do after such a load)."""
    import asyncpg  # only the PostgreSQL build needs the driver itself

    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False),
                                       server_settings={"search_path": schema})
    try:
        for table, rows in tables:
            columns = layout.columns[table]
            records = [tuple(json.dumps(v) if c in layout.json_columns else v
                             for v, c in zip(row, columns, strict=True)) for row in rows]
            await connection.copy_records_to_table(table, records=records, columns=columns, schema_name=schema)
        for table in layout.columns:  # every table loaded has an id sequence
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def chain(*parts: Rows) -> Rows:
    for part in parts:
        yield from part
