"""No query the loop runs at district scale reads a whole big table: their plans, on both backends.

The statements are the repositories' own: each query is run through the real repository method
while a ``before_cursor_execute`` listener records the SQL and parameters the driver got; the
database is then asked for the plan of exactly that statement with those parameters
(``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (FORMAT JSON)`` on PostgreSQL). A plan fails when it
scans orders, volunteers, their skills, users, ratings, the audit log or the schedule: SQLite's
``SCAN <table>`` (with or without ``USING INDEX``: a full pass over an index is a scan too),
PostgreSQL's ``Seq Scan`` on one of them.

What makes this honest rather than a test of wishes:

* A planner rightly scans a table of a few pages, so the plans are taken on a sample of the district
  (``bench/district_data.py``), not on an empty database: all of its 130,000 volunteers and 200,000
  residents, and 50,000 orders over two years (a twentieth) with their events, ratings and
  schedule rows. People are not scaled down because ``/find`` reads them by id in fixed chunks, and
  the planner weighs a chunk against the table's size: against a tenth of the people the same
  chunk would look ten times as big as it is in a district.
* SQLite is not ``ANALYZE``d: the bot never runs it, so the planner's defaults are what production
  gets. PostgreSQL is ``VACUUM ANALYZE``d after the load, as autovacuum would be; ``enable_seqscan``
  stays on, so a sequential scan the planner finds cheaper shows up here.
* ``test_a_full_scan_is_caught`` runs a query with no index to serve it through the same check.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.district_data import COLUMNS, NOW, Kinds, cast, chain, district, write_postgresql, write_sqlite
from storage.measures import Where
from storage.models import Order
from storage.summaries import trigger_names
from storage.uow import UnitOfWork
from tests.support.dbfixtures import UowFactory

BIG_TABLES = frozenset({"orders", "volunteers", "volunteer_skills", "users", "ratings", "order_events", "schedule"})
CATEGORIES = ("delivery", "housekeeping", "consulting", "repair", "training", "mediation", "emergency", "other")
KINDS = Kinds(escalate="escalate", lease="lease", appointment="appointment", rating="rating")
SAMPLE = {"scale": 0.05, "people": 1.0}  # every resident and volunteer of a district; 50,000 orders
# The order statuses the services pass (bot.domain.lifecycle's groups; storage tests name them as data).
OPEN = ["accepted", "dispatched", "done", "new", "on_way"]
DISPATCHABLE, ACTIVE, WITH_TEAM = ["dispatched", "new"], ["accepted", "on_way"], ["accepted", "dispatched", "on_way"]
OCTOBER = (dt.datetime(2026, 9, 30, 16, tzinfo=dt.UTC), dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC))
TEAM, RESIDENT, LEADER = 3, 100, 6  # a team, a resident of the sample, the cast's volunteer (a leader)

Query = Callable[[UnitOfWork], Awaitable[Any]]

QUERIES: dict[str, Query] = {
    # the monthly report
    "orders.closed_by_team": lambda uow: uow.orders.closed_by_team(*OCTOBER, closed="closed"),
    "ratings.closed_by_team": lambda uow: uow.ratings.closed_by_team(*OCTOBER, closed="closed"),
    "volunteers.leaders": lambda uow: uow.volunteers.leaders(TEAM),
    "users.coordinators": lambda uow: uow.users.coordinators(),
    # the measures (docs/measures.md): a month's orders, ratings and closures, of the district and of a place
    "measures.order_figures": lambda uow: _order_figures(uow, Where()),
    "measures.order_figures (team)": lambda uow: _order_figures(uow, Where(team_id=TEAM)),
    "measures.order_figures (community)": lambda uow: _order_figures(uow, Where(community="community 07")),
    "measures.ratings": lambda uow: uow.measures.ratings(Where(), OCTOBER, "order", 4),
    "measures.ratings (team)": lambda uow: uow.measures.ratings(Where(team_id=TEAM), OCTOBER, "order", 4),
    "measures.unrated": lambda uow: uow.measures.unrated(Where(), OCTOBER, "closed"),
    "measures.unrated (team)": lambda uow: uow.measures.unrated(Where(team_id=TEAM), OCTOBER, "closed"),
    "measures.volunteers (team)": lambda uow: uow.measures.volunteers(Where(team_id=TEAM), None),
    # the digests and the sweep
    "orders.waiting_since": lambda uow: uow.orders.waiting_since(
        DISPATCHABLE, NOW - dt.timedelta(hours=4), NOW - dt.timedelta(hours=1)),
    "orders.past_appointment": lambda uow: uow.orders.past_appointment(ACTIVE, NOW - dt.timedelta(minutes=30)),
    "orders.of_team": lambda uow: uow.orders.of_team(TEAM, WITH_TEAM),
    "schedule.take_due": lambda uow: uow.schedule.take_due(NOW, 50),
    # /find
    "volunteers.find (skill)": lambda uow: uow.volunteers.find("repair", None, limit=None),
    "volunteers.find (skill, community)": lambda uow: uow.volunteers.find("repair", "Community 07", limit=None),
    # the lists
    "volunteers.members": lambda uow: uow.volunteers.members(TEAM),
    "volunteers.businesses": lambda uow: uow.volunteers.businesses(completed="closed"),
    "orders.with_status": lambda uow: uow.orders.with_status(OPEN, limit=None),
    "teams.led_by": lambda uow: uow.teams.led_by(LEADER),
    "teams.set_active": lambda uow: uow.teams.set_active(TEAM, False, unless_open=OPEN),
    # a resident's requests and the request limits
    "orders.of_resident": lambda uow: uow.orders.of_resident(RESIDENT),
    "orders.count_placed": lambda uow: uow.orders.count_placed(RESIDENT, False, OPEN),
    "orders.placed_since": lambda uow: uow.orders.placed_since(RESIDENT, False, NOW - dt.timedelta(hours=1)),
}


async def _order_figures(uow: UnitOfWork, where: Where) -> Any:
    return await uow.measures.order_figures(where, OCTOBER, refused=["rejected"], withdrawn="cancelled",
                                            finished=["closed", "done"], response_minutes=60)


async def _load_sample(engine: AsyncEngine, database_url: str, scale: float, people: float) -> None:
    rows = chain(iter(cast(CATEGORIES).items()), district(scale, CATEGORIES, KINDS, people=people))
    if engine.dialect.name == "sqlite":
        await engine.dispose()  # the sample is written on a connection of its own
        path = Path(make_url(database_url).database or "")
        with _indexes_and_summaries_built_after(path):
            write_sqlite(path, rows)
    else:
        async with _foreign_keys_unchecked(engine):
            await write_postgresql(database_url, "public", rows)


@contextlib.asynccontextmanager
async def _foreign_keys_unchecked(engine: AsyncEngine) -> AsyncIterator[None]:
    """PostgreSQL's foreign-key triggers off during the load, as SQLite's ``foreign_keys`` is off in
    :func:`write_sqlite` (the sample refers only to rows it wrote): two thirds of the load's time. The
    measures' summaries are not kept either (their triggers cost minutes, and no plan here reads them).
    The schema's own trigger (volunteer skills) keeps running; every trigger is on again afterwards."""
    async with engine.begin() as connection:
        for table in COLUMNS:
            await connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            await connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        summaries = await connection.exec_driver_sql(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE tgname = ANY($1)",
            (trigger_names(postgresql=True),))
        for name, table in summaries.all():
            await connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
    try:
        yield
    finally:
        async with engine.begin() as connection:
            for table in COLUMNS:
                await connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER ALL")


@contextlib.contextmanager
def _indexes_and_summaries_built_after(path: Path) -> Iterator[None]:
    """The migrations' own indexes dropped during the load and created again after it, from the same
    SQL (``sqlite_master`` keeps it): one sort per index instead of a B-tree insert per row, about a
    third of the load's time. The measures' summary triggers are dropped and created again the same
    way (no plan here reads the summaries; they would cost most of the load). Nothing else about the
    schema changes, and no statistics are gathered."""
    summaries = trigger_names(postgresql=False)
    connection = sqlite3.connect(path)
    try:
        indexes = connection.execute(  # created again in the migrations' order
            "SELECT type, name, sql FROM sqlite_master WHERE (type = 'index' AND sql IS NOT NULL) OR "
            f"(type = 'trigger' AND name IN ({', '.join('?' * len(summaries))})) ORDER BY rowid", summaries).fetchall()
        assert sum(kind == "trigger" for kind, _, _ in indexes) == len(summaries)
        for kind, name, _ in indexes:
            connection.execute(f'DROP {kind.upper()} "{name}"')
        connection.commit()
    finally:
        connection.close()
    yield
    connection = sqlite3.connect(path)
    try:
        for _, _, sql in indexes:
            connection.execute(sql)
        connection.commit()
        assert connection.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() == (0,)
    finally:
        connection.close()


def _statements(engine: AsyncEngine) -> tuple[list[tuple[str, Any]], Callable[[], None]]:
    """Record every statement sent on ``engine`` (the SQL and parameters as the driver gets them)."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH", "UPDATE", "DELETE"):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return sent, lambda: event.remove(engine.sync_engine, "before_cursor_execute", record)


def _sqlite_scans(plan: list[Any]) -> Iterator[str]:
    for *_, detail in plan:
        scanned = re.match(r"SCAN (\w+)", detail)
        if scanned and scanned.group(1) in BIG_TABLES:
            yield detail


def _postgresql_scans(node: dict[str, Any]) -> Iterator[str]:
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
        yield f"Seq Scan on {node['Relation Name']}"
    for child in node.get("Plans", ()):
        yield from _postgresql_scans(child)


async def _full_scans(engine: AsyncEngine, statement: str, parameters: Any) -> list[str]:
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
            return list(_sqlite_scans(plan))
        document = (await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)).scalar_one()
        tree = json.loads(document) if isinstance(document, str) else document
        return list(_postgresql_scans(tree[0]["Plan"]))


async def _scans_of(engine: AsyncEngine, uow_factory: UowFactory, query: Query) -> list[str]:
    """The full scans in the plans of every statement ``query`` sends (rolled back: nothing changes)."""
    sent, stop = _statements(engine)
    try:
        async with uow_factory() as uow:
            await query(uow)
    finally:
        stop()
    assert sent, "the query sent no statement"
    return [scan for statement, parameters in sent for scan in await _full_scans(engine, statement, parameters)]


async def test_no_query_scans_a_big_table(engine: AsyncEngine, database_url: str, uow_factory: UowFactory) -> None:
    await _load_sample(engine, database_url, **SAMPLE)
    async with uow_factory() as uow:  # the sample is there: the plans are about a populated database
        assert len(await uow.orders.with_status(["closed"], limit=None)) > 40_000

    scans = {name: await _scans_of(engine, uow_factory, query) for name, query in QUERIES.items()}

    assert {name: found for name, found in scans.items() if found} == {}


async def test_a_full_scan_is_caught(engine: AsyncEngine, database_url: str, uow_factory: UowFactory) -> None:
    """The check sees a scan: orders by their contact's name have no index."""
    await _load_sample(engine, database_url, 0.01, 0.01)

    async def by_contact(uow: UnitOfWork) -> Any:
        return (await uow.session.scalars(select(Order).where(Order.contact_name == "Rita"))).all()

    scans = await _scans_of(engine, uow_factory, by_contact)

    assert scans == (["SCAN orders"] if engine.dialect.name == "sqlite" else ["Seq Scan on orders"])
