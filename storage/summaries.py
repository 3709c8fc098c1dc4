"""The measures' summaries (docs/measures.md, "Summaries"): per local month, the counts behind every
rate of the district, each team and each community, kept in step by database triggers in the
writer's own transaction, so a report of whole months reads a few hundred rows instead of a year of
orders, ratings and ledger entries.

Why triggers: every writer is caught — the move's conditional ``UPDATE``, ``OrderRepository.add``,
ratings, the ledger, roster imports and approvals, bulk SQL and future writers — and a row's old
and new contribution are both at hand (``OLD``/``NEW``), so a move takes the old away and adds the
new in the same statement as the move: a ``kill -9`` can never leave the summaries out of step.

Each contribution is the same SQL on both backends, written once here (:class:`Sql`) as rows of
``(month, kind, axis, key, n)`` and added by one ``INSERT … ON CONFLICT DO UPDATE SET n = n +
excluded.n`` per table, its rows in key order (concurrent writers lock summary rows in one order:
no lost increments, no deadlock between two moves). :func:`rebuild` recomputes everything from the
raw rows with the same SQL (the migration's backfill, ``volunteer-loop db rebuild-measures``).

Months are local months under one fixed UTC offset (``measure_clock``); a report whose periods are
not whole months under it reads the raw rows instead (``bot.services.measures``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from storage.models import MeasureClock, MeasureCount, MeasureMinutes
from storage.repositories import _Repository

# What the rates count (storage never imports bot: tests/storage/test_summaries.py holds these to
# bot.domain.lifecycle's and bot.services.measures' own).
REFUSED = ("rejected",)
WITHDRAWN = "cancelled"
FINISHED = ("closed", "done")
CLOSED = "closed"
SATISFIED_FROM = 4
SERVED_SOURCES = ("order", "activity")
RATED_SOURCE = "order"
# Whole minutes are started minutes of a difference taken to the millisecond: (ms + 59,999) / 60,000
# in SQL's integer division (truncating toward zero on both backends).
MINUTE_MS = 60_000
DISTRICT, TEAM, COMMUNITY = "d", "t", "c"
DEFAULT_OFFSET_MINUTES = 480  # UTC+8, Asia/Shanghai: the settings' default zone
BUCKET = 64  # a median is found in a 64-minute bucket first, then among that bucket's minutes

_COUNTS_KEY = "month, kind, axis, key"
_MINUTES_KEY = "month, kind, axis, key, minutes"


def _quote(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Sql:
    """The summaries' SQL for one backend."""

    def __init__(self, postgresql: bool) -> None:
        self.postgresql = postgresql

    # -- expressions --------------------------------------------------------------------------------------------
    def month(self, time: str) -> str:
        offset = "(SELECT offset_minutes FROM measure_clock WHERE id = 1)"
        if self.postgresql:
            return (f"CAST(to_char(({time} AT TIME ZONE 'UTC') + make_interval(mins => {offset}), 'YYYYMM')"
                    " AS INTEGER)")
        return f"CAST(strftime('%Y%m', {time}, {offset} || ' minutes') AS INTEGER)"

    def minutes(self, start: str, end: str) -> str:
        """Whole (started) minutes from ``start`` to ``end``, the difference taken to the millisecond
        (one rounding, no floating point left): the same arithmetic as
        ``storage.measures.MeasuresRepository._minutes``."""
        if self.postgresql:
            ms = f"CAST(round(CAST(extract(epoch FROM {end} - {start}) AS NUMERIC) * 1000) AS BIGINT)"
        else:
            ms = f"CAST(round((julianday({end}) - julianday({start})) * 86400000) AS INTEGER)"
        return f"(({ms} + {MINUTE_MS - 1}) / {MINUTE_MS})"

    # -- adding rows ---------------------------------------------------------------------------------------------
    @staticmethod
    def add_counts(rows: str) -> str:
        return (f"INSERT INTO measure_counts ({_COUNTS_KEY}, n) SELECT {_COUNTS_KEY}, sum(n) FROM ({rows}) AS r "
                f"WHERE true GROUP BY {_COUNTS_KEY} HAVING sum(n) <> 0 ORDER BY {_COUNTS_KEY} "
                f"ON CONFLICT ({_COUNTS_KEY}) DO UPDATE SET n = measure_counts.n + excluded.n")

    @staticmethod
    def add_minutes(rows: str) -> str:
        return (f"INSERT INTO measure_minutes ({_MINUTES_KEY}, n) SELECT {_MINUTES_KEY}, sum(n) FROM ({rows}) AS r "
                f"WHERE true GROUP BY {_MINUTES_KEY} HAVING sum(n) <> 0 ORDER BY {_MINUTES_KEY} "
                f"ON CONFLICT ({_MINUTES_KEY}) DO UPDATE SET n = measure_minutes.n + excluded.n")

    # -- orders --------------------------------------------------------------------------------------------------
    @staticmethod
    def _axes(x: str) -> list[tuple[str, str, str]]:
        return [(DISTRICT, "''", "true"), (TEAM, f"CAST({x}.team_id AS TEXT)", f"{x}.team_id IS NOT NULL"),
                (COMMUNITY, f"lower({x}.community)", "true")]

    @staticmethod
    def _counted(x: str) -> str:
        return (f"{x}.status NOT IN ({_quote(REFUSED)}) "
                f"AND NOT ({x}.status = '{WITHDRAWN}' AND {x}.accepted_at IS NULL)")

    def order_counts(self, x: str, sign: int, source: str = "") -> str:
        """An order's counts (``x``: NEW, OLD or a table alias with ``source`` its FROM)."""
        counted = self._counted(x)
        created, updated = self.month(f"{x}.created_at"), self.month(f"{x}.updated_at")
        kinds = [("counted", created, counted),
                 ("resolved", created, f"{counted} AND {x}.status IN ({_quote(FINISHED)}) AND {x}.round = 1"),
                 ("behalf", created, f"{x}.on_behalf"),
                 ("unrated", updated, f"{x}.status = '{CLOSED}' AND {x}.no_response")]
        return " UNION ALL ".join(
            f"SELECT {month} AS month, '{kind}' AS kind, '{axis}' AS axis, {key} AS key, {sign} AS n {source} "
            f"WHERE {condition} AND {present}"
            for kind, month, condition in kinds for axis, key, present in self._axes(x))

    def order_minutes(self, x: str, sign: int, source: str = "") -> str:
        counted = self._counted(x)
        month = self.month(f"{x}.created_at")
        accepted = self.minutes(f"{x}.created_at", f"{x}.accepted_at")
        done = self.minutes(f"{x}.created_at", f"{x}.done_at")
        was_accepted = f"{counted} AND {x}.accepted_at IS NOT NULL"
        was_done = f"{counted} AND {x}.done_at IS NOT NULL AND {x}.status IN ({_quote(FINISHED)})"
        # a: each whole minute; A: each bucket of BUCKET minutes (its first minute, truncated toward
        # zero as SQL's % does), so a median's bucket is found among a few dozen rows
        kinds = [("a", accepted, was_accepted), ("A", f"({accepted} - {accepted} % {BUCKET})", was_accepted),
                 ("d", done, was_done), ("D", f"({done} - {done} % {BUCKET})", was_done)]
        return " UNION ALL ".join(
            f"SELECT {month} AS month, '{kind}' AS kind, '{axis}' AS axis, {key} AS key, {minutes} AS minutes, "
            f"{sign} AS n {source} WHERE {condition} AND {present}"
            for kind, minutes, condition in kinds for axis, key, present in self._axes(x))

    @staticmethod
    def counted_change(differs: str) -> str:
        """Whether an update of an order changes what it counts for (not a card's id, a description):
        a column the counts read, or the time of an unrated closure."""
        columns = ("status", "team_id", "community", "created_at", "accepted_at", "done_at", "round", "no_response",
                   "on_behalf")
        changed = " OR ".join(f"OLD.{c} {differs} NEW.{c}" for c in columns)
        return f"({changed} OR (OLD.updated_at {differs} NEW.updated_at AND (OLD.no_response OR NEW.no_response)))"

    # -- households that ordered ---------------------------------------------------------------------------------
    @staticmethod
    def homes(where: str, alive: str, sign: int) -> str:
        """Households that ordered (each resident once a month; per community), of the residents' rows
        matching ``where`` whose count ``alive`` is above zero."""
        return (f"SELECT month, 'homes' AS kind, '{DISTRICT}' AS axis, '' AS key, "
                f"{sign} * count(DISTINCT resident_id) AS n FROM measure_residents WHERE {alive} > 0 AND {where} "
                f"GROUP BY month UNION ALL SELECT month, 'homes', '{COMMUNITY}', community, {sign} * count(*) "
                f"FROM measure_residents WHERE {alive} > 0 AND {where} GROUP BY month, community")

    def resident_change(self, x: str, delta: int) -> list[str]:
        """A request of order ``x`` for its resident themselves, added (+1) or taken away (-1): the
        resident's row, then their households' counts after the change less those before."""
        month, community = self.month(f"{x}.created_at"), f"lower({x}.community)"
        where = f"month = {month} AND resident_id = {x}.resident_id AND NOT {x}.on_behalf"
        before = f"n - CASE WHEN community = {community} THEN {delta} ELSE 0 END"
        return [f"INSERT INTO measure_residents (month, resident_id, community, n) "
                f"SELECT {month}, {x}.resident_id, {community}, {delta} WHERE NOT {x}.on_behalf "
                f"ON CONFLICT (month, resident_id, community) DO UPDATE SET n = measure_residents.n + excluded.n",
                self.add_counts(f"{self.homes(where, 'n', 1)} UNION ALL {self.homes(where, before, -1)}")]

    # -- volunteers who served -------------------------------------------------------------------------------------
    @staticmethod
    def served(where: str, sign: int) -> str:
        """Volunteers who served, of the served rows ``s`` matching ``where``, as the roster has them
        now (each person's approved rows looked up in ``ix_volunteers_measures``): the district,
        each community they are an approved member of, each team they served for and are an
        approved member of."""
        approved = "v.user_id = s.user_id AND v.status = 'approved'"
        return (f"SELECT s.month AS month, 'served' AS kind, '{DISTRICT}' AS axis, '' AS key, "
                f"{sign} * count(DISTINCT s.user_id) AS n FROM measure_served s WHERE {where} "
                f"AND EXISTS (SELECT 1 FROM volunteers v WHERE {approved}) GROUP BY s.month "
                f"UNION ALL SELECT s.month, 'served', '{COMMUNITY}', lower(v.community), "
                f"{sign} * count(DISTINCT s.user_id) "
                f"FROM (SELECT DISTINCT month, user_id FROM measure_served s WHERE {where}) s "
                f"JOIN volunteers v ON v.user_id = s.user_id AND v.status = 'approved' "
                "GROUP BY s.month, lower(v.community) "
                f"UNION ALL SELECT s.month, 'served', '{TEAM}', CAST(s.team_id AS TEXT), "
                f"{sign} * count(DISTINCT s.user_id) FROM measure_served s WHERE {where} "
                f"AND EXISTS (SELECT 1 FROM volunteers v WHERE {approved} AND v.team_id = s.team_id) "
                "GROUP BY s.month, s.team_id")

    def served_entry(self) -> tuple[str, str, str]:
        """A ledger entry of service (NEW): whether it is a new (month, person, team), the row, and
        the person's counts with it less those without it."""
        month, team = self.month("NEW.served_at"), "coalesce(NEW.team_id, 0)"
        new = (f"NEW.source IN ({_quote(SERVED_SOURCES)}) AND NOT EXISTS (SELECT 1 FROM measure_served "
               f"WHERE month = {month} AND user_id = NEW.user_id AND team_id = {team})")
        insert = (f"INSERT INTO measure_served (month, user_id, team_id) SELECT {month}, NEW.user_id, {team} "
                  f"WHERE NEW.source IN ({_quote(SERVED_SOURCES)}) ON CONFLICT DO NOTHING")
        person = f"s.month = {month} AND s.user_id = NEW.user_id"
        change = self.add_counts(f"{self.served(person, 1)} UNION ALL "
                                 f"{self.served(f'{person} AND s.team_id <> {team}', -1)}")
        return new, insert, change

    @staticmethod
    def members(people: str, sign: int) -> str:
        """Approved volunteers (month 0: the roster has no month) of the rows matching ``people``:
        each person once in the district, once in each community and team they are in; a roster
        row without an account each once."""
        count = f"{sign} * (count(DISTINCT user_id) + sum(CASE WHEN user_id IS NULL THEN 1 ELSE 0 END))"
        rows = f"FROM volunteers WHERE status = 'approved' AND ({people})"
        return (f"SELECT 0 AS month, 'members' AS kind, '{DISTRICT}' AS axis, '' AS key, {count} AS n {rows} "
                f"UNION ALL SELECT 0, 'members', '{COMMUNITY}', lower(community), {count} {rows} "
                f"GROUP BY lower(community) UNION ALL SELECT 0, 'members', '{TEAM}', CAST(team_id AS TEXT), {count} "
                f"{rows} AND team_id IS NOT NULL GROUP BY team_id")

    def person(self, x: str, sign: int) -> str:
        """A person's counts — served in every month, and on the roster — as their roster rows are
        before a change or after it (a row without an account: that row's alone)."""
        people = f"user_id = {x}.user_id"
        return self.add_counts(f"{self.served(f's.user_id = {x}.user_id', sign)} UNION ALL "
                               f"{self.members(f'{people} OR (id = {x}.id AND user_id IS NULL)', sign)}")

    # -- ratings ---------------------------------------------------------------------------------------------------
    def ratings(self, where: str, entry: str = "true", axes: Sequence[str] = (DISTRICT, COMMUNITY, TEAM)) -> str:
        """Ratings given and satisfied (``r`` matching ``where``): the district's and the order's
        community's; a team's through each ledger entry of the rated round (``e`` matching ``entry``)."""
        month = self.month("r.created_at")
        parts = {DISTRICT: ("''", "FROM ratings r", "true"),
                 COMMUNITY: ("lower(o.community)", "FROM ratings r JOIN orders o ON o.id = r.order_id", "true"),
                 TEAM: ("CAST(e.team_id AS TEXT)",
                        f"FROM ratings r JOIN hours_entries e ON e.order_id = r.order_id AND e.round = r.round "
                        f"AND e.source = '{RATED_SOURCE}'", f"e.team_id IS NOT NULL AND {entry}")}
        return " UNION ALL ".join(
            f"SELECT {month} AS month, '{kind}' AS kind, '{axis}' AS axis, {parts[axis][0]} AS key, 1 AS n "
            f"{parts[axis][1]} WHERE {where} AND {parts[axis][2]}{extra}"
            for axis in axes for kind, extra in (("given", ""), ("satisfied", f" AND r.stars >= {SATISFIED_FROM}")))

    # -- households reached ----------------------------------------------------------------------------------------
    def reached(self, x: str, sign: int, source: str = "") -> str:
        month = self.month(f"{x}.reached_at")
        return (f"SELECT {month} AS month, 'reached' AS kind, '{DISTRICT}' AS axis, '' AS key, {sign} AS n {source} "
                f"WHERE true UNION ALL SELECT {month}, 'reached', '{COMMUNITY}', {x}.community, {sign} {source} "
                "WHERE true")

    # -- the triggers ----------------------------------------------------------------------------------------------
    def create(self) -> list[str]:
        return self._postgresql() if self.postgresql else self._sqlite()

    def drop(self) -> list[str]:
        if self.postgresql:
            return [f"DROP TRIGGER {name} ON {table}" for name, table, _ in _PG_TRIGGERS] + \
                   [f"DROP FUNCTION {function}()" for function in dict.fromkeys(f for _, _, f in _PG_TRIGGERS)]
        return [f"DROP TRIGGER {name}" for name in _SQLITE_TRIGGERS]

    def _sqlite(self) -> list[str]:
        def trigger(name: str, event: str, statements: list[str], when: str = "") -> str:
            assert name in _SQLITE_TRIGGERS
            condition = f" WHEN {when}" if when else ""
            return f"CREATE TRIGGER {name} {event}{condition} BEGIN {'; '.join(statements)}; END"

        new, insert, change = self.served_entry()
        identity = ("OLD.resident_id IS NOT NEW.resident_id OR OLD.community IS NOT NEW.community "
                    "OR OLD.created_at IS NOT NEW.created_at OR OLD.on_behalf IS NOT NEW.on_behalf")
        roster = "BEFORE UPDATE OF status, team_id, community, user_id ON volunteers"
        return [
            trigger("measure_orders_insert", "AFTER INSERT ON orders",
                    [self.add_counts(self.order_counts("NEW", 1)), self.add_minutes(self.order_minutes("NEW", 1)),
                     *self.resident_change("NEW", 1)]),
            trigger("measure_orders_update", "AFTER UPDATE ON orders",
                    [self.add_counts(f"{self.order_counts('NEW', 1)} UNION ALL {self.order_counts('OLD', -1)}"),
                     self.add_minutes(f"{self.order_minutes('NEW', 1)} UNION ALL {self.order_minutes('OLD', -1)}")],
                    self.counted_change("IS NOT")),
            trigger("measure_orders_moved", "AFTER UPDATE OF resident_id, community, created_at, on_behalf ON orders",
                    [*self.resident_change("OLD", -1), *self.resident_change("NEW", 1)], identity),
            trigger("measure_orders_delete", "AFTER DELETE ON orders",
                    [self.add_counts(self.order_counts("OLD", -1)), self.add_minutes(self.order_minutes("OLD", -1)),
                     *self.resident_change("OLD", -1)]),
            trigger("measure_ratings_insert", "AFTER INSERT ON ratings",
                    [self.add_counts(self.ratings("r.id = NEW.id"))]),
            trigger("measure_served_insert", "AFTER INSERT ON hours_entries", [insert, change], new),
            trigger("measure_rated_entry", "AFTER INSERT ON hours_entries",
                    [self.add_counts(self.ratings("r.order_id = NEW.order_id", "e.id = NEW.id", (TEAM,)))],
                    f"NEW.source = '{RATED_SOURCE}' AND NEW.team_id IS NOT NULL"),
            trigger("measure_roster_before_insert", "BEFORE INSERT ON volunteers", [self.person("NEW", -1)]),
            trigger("measure_roster_after_insert", "AFTER INSERT ON volunteers", [self.person("NEW", 1)]),
            trigger("measure_roster_before_update", roster,
                    [self.person("OLD", -1), self._other_person(-1)]),
            trigger("measure_roster_after_update", roster.replace("BEFORE", "AFTER"),
                    [self.person("OLD", 1), self._other_person(1)]),
            trigger("measure_roster_before_delete", "BEFORE DELETE ON volunteers", [self.person("OLD", -1)]),
            trigger("measure_roster_after_delete", "AFTER DELETE ON volunteers", [self.person("OLD", 1)]),
            trigger("measure_reached_insert", "AFTER INSERT ON reached_households",
                    [self.add_counts(self.reached("NEW", 1))]),
            trigger("measure_reached_update", "AFTER UPDATE ON reached_households",
                    [self.add_counts(f"{self.reached('NEW', 1)} UNION ALL {self.reached('OLD', -1)}")]),
            trigger("measure_reached_delete", "AFTER DELETE ON reached_households",
                    [self.add_counts(self.reached("OLD", -1))]),
        ]

    def _new_person(self, sign: int) -> str:
        """The new person of a roster row given to someone else (PostgreSQL: only then called)."""
        return self.add_counts(f"{self.served('s.user_id = NEW.user_id', sign)} "
                               f"UNION ALL {self.members('user_id = NEW.user_id', sign)}")

    def _other_person(self, sign: int) -> str:
        """The new person of a roster row given to someone else (nothing when it stays theirs)."""
        other = "NEW.user_id IS NOT OLD.user_id"
        return self.add_counts(f"{self.served(f's.user_id = NEW.user_id AND {other}', sign)}"
                               f" UNION ALL {self.members(f'user_id = NEW.user_id AND {other}', sign)}")

    def _postgresql(self) -> list[str]:
        def function(name: str, body: str, returns: str = "NULL") -> str:
            return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
                    f"RETURN {returns}; END $$")

        def run(statements: list[str]) -> str:
            return " ".join(f"{s};" for s in statements)

        _, insert, change = self.served_entry()
        identity = ("(OLD.resident_id, OLD.community, OLD.created_at, OLD.on_behalf) IS DISTINCT FROM "
                    "(NEW.resident_id, NEW.community, NEW.created_at, NEW.on_behalf)")
        update_counts = self.add_counts(self.order_counts("NEW", 1) + " UNION ALL " + self.order_counts("OLD", -1))
        update_minutes = self.add_minutes(self.order_minutes("NEW", 1) + " UNION ALL "
                                          + self.order_minutes("OLD", -1))
        moved = run([*self.resident_change("OLD", -1), *self.resident_change("NEW", 1)])
        orders = (
            "IF TG_OP = 'INSERT' THEN "
            + run([self.add_counts(self.order_counts("NEW", 1)), self.add_minutes(self.order_minutes("NEW", 1)),
                   *self.resident_change("NEW", 1)])
            + f" ELSIF TG_OP = 'UPDATE' THEN IF {self.counted_change('IS DISTINCT FROM')} THEN "
            + f"{run([update_counts, update_minutes])} END IF; IF {identity} THEN {moved} END IF;"
            + " ELSE " + run([self.add_counts(self.order_counts("OLD", -1)),
                              self.add_minutes(self.order_minutes("OLD", -1)), *self.resident_change("OLD", -1)])
            + " END IF;")
        # the person's roster rows are locked first, so a ledger entry and an approval of the same
        # person take turns (each sees the other's rows once it goes on)
        ledger = (
            f"IF NEW.source IN ({_quote(SERVED_SOURCES)}) THEN "
            "PERFORM 1 FROM volunteers WHERE user_id = NEW.user_id FOR SHARE; "
            f"{insert}; GET DIAGNOSTICS added = ROW_COUNT; IF added > 0 THEN {change}; END IF; END IF; "
            f"IF NEW.source = '{RATED_SOURCE}' AND NEW.team_id IS NOT NULL THEN "
            f"{self.add_counts(self.ratings('r.order_id = NEW.order_id', 'e.id = NEW.id', (TEAM,)))}; END IF;")
        roster_before = (f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {self.person('OLD', -1)}; END IF; "
                         f"IF TG_OP = 'INSERT' THEN {self.person('NEW', -1)}; END IF; "
                         f"IF TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id "
                         f"THEN {self._new_person(-1)}; END IF;")
        roster_after = (f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {self.person('OLD', 1)}; END IF; "
                        f"IF TG_OP = 'INSERT' THEN {self.person('NEW', 1)}; END IF; "
                        f"IF TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id "
                        f"THEN {self._new_person(1)}; END IF;")
        reached = (f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {self.add_counts(self.reached('NEW', 1))}; END IF; "
                   f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {self.add_counts(self.reached('OLD', -1))}; END IF;")
        roster_events = "INSERT OR UPDATE OF status, team_id, community, user_id OR DELETE"
        return [
            function("measure_orders_sync", orders),
            function("measure_ratings_sync", f"{self.add_counts(self.ratings('r.id = NEW.id'))};"),
            function("measure_ledger_sync", ledger).replace("$$ BEGIN", "$$ DECLARE added integer; BEGIN"),
            function("measure_roster_before", roster_before, "CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END"),
            function("measure_roster_after", roster_after),
            function("measure_reached_sync", reached),
            "CREATE TRIGGER measure_orders_sync AFTER INSERT OR UPDATE OR DELETE ON orders "
            "FOR EACH ROW EXECUTE FUNCTION measure_orders_sync()",
            "CREATE TRIGGER measure_ratings_sync AFTER INSERT ON ratings FOR EACH ROW EXECUTE FUNCTION "
            "measure_ratings_sync()",
            "CREATE TRIGGER measure_ledger_sync AFTER INSERT ON hours_entries FOR EACH ROW EXECUTE FUNCTION "
            "measure_ledger_sync()",
            f"CREATE TRIGGER measure_roster_before BEFORE {roster_events} ON volunteers FOR EACH ROW "
            "EXECUTE FUNCTION measure_roster_before()",
            f"CREATE TRIGGER measure_roster_after AFTER {roster_events} ON volunteers FOR EACH ROW "
            "EXECUTE FUNCTION measure_roster_after()",
            "CREATE TRIGGER measure_reached_sync AFTER INSERT OR UPDATE OR DELETE ON reached_households "
            "FOR EACH ROW EXECUTE FUNCTION measure_reached_sync()",
        ]

    # -- rebuilding from the raw rows ------------------------------------------------------------------------------
    def rebuild(self, offset_minutes: int) -> list[str]:
        """Every summary recomputed from the raw rows, months cut at ``offset_minutes``."""
        return [
            "DELETE FROM measure_counts", "DELETE FROM measure_minutes", "DELETE FROM measure_served",
            "DELETE FROM measure_residents", "DELETE FROM measure_clock",
            f"INSERT INTO measure_clock (id, offset_minutes) VALUES (1, {int(offset_minutes)})",
            self.add_counts(self.order_counts("o", 1, "FROM orders o")),
            self.add_minutes(self.order_minutes("o", 1, "FROM orders o")),
            f"INSERT INTO measure_residents (month, resident_id, community, n) "
            f"SELECT {self.month('o.created_at')}, o.resident_id, lower(o.community), count(*) FROM orders o "
            "WHERE NOT o.on_behalf GROUP BY 1, 2, 3",
            self.add_counts(self.homes("true", "n", 1)),
            f"INSERT INTO measure_served (month, user_id, team_id) SELECT DISTINCT {self.month('e.served_at')}, "
            f"e.user_id, coalesce(e.team_id, 0) FROM hours_entries e WHERE e.source IN ({_quote(SERVED_SOURCES)})",
            self.add_counts(self.served("true", 1)),
            self.add_counts(self.members("true", 1)),
            self.add_counts(self.ratings("true")),
            self.add_counts(self.reached("o", 1, "FROM reached_households o")),
        ]


_SQLITE_TRIGGERS = (
    "measure_orders_insert", "measure_orders_update", "measure_orders_moved", "measure_orders_delete",
    "measure_ratings_insert", "measure_served_insert", "measure_rated_entry",
    "measure_roster_before_insert", "measure_roster_after_insert", "measure_roster_before_update",
    "measure_roster_after_update", "measure_roster_before_delete", "measure_roster_after_delete",
    "measure_reached_insert", "measure_reached_update", "measure_reached_delete")
_PG_TRIGGERS = (
    ("measure_orders_sync", "orders", "measure_orders_sync"),
    ("measure_ratings_sync", "ratings", "measure_ratings_sync"),
    ("measure_ledger_sync", "hours_entries", "measure_ledger_sync"),
    ("measure_roster_before", "volunteers", "measure_roster_before"),
    ("measure_roster_after", "volunteers", "measure_roster_after"),
    ("measure_reached_sync", "reached_households", "measure_reached_sync"),
)


def trigger_names(postgresql: bool) -> list[str]:
    """The summaries' triggers: what a bulk load may turn off when a rebuild (or nothing) does their work."""
    return [name for name, _, _ in _PG_TRIGGERS] if postgresql else list(_SQLITE_TRIGGERS)


def install(connection: Connection) -> None:
    """The triggers (the migration's)."""
    for statement in Sql(connection.dialect.name == "postgresql").create():
        connection.exec_driver_sql(statement)


def rebuild(connection: Connection, offset_minutes: int = DEFAULT_OFFSET_MINUTES) -> None:
    """Every summary from the raw rows (the migration's backfill; ``db rebuild-measures``)."""
    for statement in Sql(connection.dialect.name == "postgresql").rebuild(offset_minutes):
        connection.exec_driver_sql(statement)


Cell = tuple[int, str]  # (month, key)


class SummaryRepository(_Repository):
    """Reads the summaries: counts, responses within a number of minutes, and exact medians."""

    async def rebuild(self, offset_minutes: int = DEFAULT_OFFSET_MINUTES) -> None:
        """Every summary from the raw rows, in this unit of work (see :func:`rebuild`)."""
        await self.session.run_sync(lambda session: rebuild(session.connection(), offset_minutes))

    async def offset(self) -> int | None:
        return await self.session.scalar(select(MeasureClock.offset_minutes).where(MeasureClock.id == 1))

    async def counts(self, months: Sequence[int], axis: str, key: str | None = None) -> dict[Cell, dict[str, int]]:
        """Every count of ``axis`` (one ``key``, or every key) in ``months``."""
        query = select(MeasureCount.month, MeasureCount.key, MeasureCount.kind, MeasureCount.n).where(
            MeasureCount.month.in_(list(months)), MeasureCount.axis == axis)
        if key is not None:
            query = query.where(MeasureCount.key == key)
        result: dict[Cell, dict[str, int]] = {}
        for month, found, kind, n in (await self.session.execute(query)).all():
            result.setdefault((month, found), {})[kind] = int(n)
        return result

    async def members(self, axis: str, key: str | None = None) -> dict[str, int]:
        """Approved volunteers of each key of ``axis`` (or of one key)."""
        query = select(MeasureCount.key, MeasureCount.n).where(
            MeasureCount.month == 0, MeasureCount.kind == "members", MeasureCount.axis == axis)
        if key is not None:
            query = query.where(MeasureCount.key == key)
        return {found: int(n) for found, n in (await self.session.execute(query)).all()}

    async def reached(self, last: int, axis: str, key: str | None = None) -> dict[Cell, int]:
        """Households reached by each month's end, up to ``last``, (month, key) → count (months with
        households added only: the caller carries the total forward)."""
        query = (select(MeasureCount.month, MeasureCount.key, MeasureCount.n)
                 .where(MeasureCount.kind == "reached", MeasureCount.axis == axis, MeasureCount.month <= last))
        if key is not None:
            query = query.where(MeasureCount.key == key)
        return {(month, found): int(n) for month, found, n in (await self.session.execute(query)).all()}

    async def minutes(self, kind: str, months: Sequence[int], axis: str, key: str | None, within: int
                      ) -> dict[Cell, tuple[int, int, float | None]]:
        """Orders of ``kind`` (a: accepted, d: done) per (month, key): how many, how many within
        ``within`` whole minutes, and the median of their whole minutes. The buckets of
        :data:`BUCKET` minutes first (kind A or D: a few dozen rows a key), then the minutes of
        the buckets that hold a median or ``within`` alone, each a range of the index."""
        m = MeasureMinutes
        where = [m.axis == axis, m.month.in_(list(months))]
        if key is not None:
            where.append(m.key == key)
        buckets: dict[Cell, list[tuple[int, int]]] = {}
        for month, found, first, n in (await self.session.execute(
                select(m.month, m.key, m.minutes, m.n).where(m.kind == kind.upper(), *where)
                .order_by(m.month, m.key, m.minutes))).all():
            buckets.setdefault((month, found), []).append((int(first), int(n)))
        totals = {cell: sum(n for _, n in parts) for cell, parts in buckets.items()}
        inside = {cell: sum(n for first, n in parts if _bucket_bounds(first)[1] <= within)
                  for cell, parts in buckets.items()}
        medians: dict[tuple[int, str, int], list[int]] = {}  # (month, key, bucket) → ranks within it
        for cell, parts in buckets.items():
            for rank in _middle_ranks(totals[cell]):
                seen = 0
                for first, n in parts:
                    if seen + n >= rank:
                        medians.setdefault((*cell, first), []).append(rank - seen)
                        break
                    seen += n
        across = {(*cell, first) for cell, parts in buckets.items() for first, n in parts
                  if n and _bucket_bounds(first)[0] <= within < _bucket_bounds(first)[1]}
        fine: dict[tuple[int, str, int], list[tuple[int, int]]] = {}
        wanted = medians.keys() | across
        if wanted:
            chosen = or_(*(and_(m.month == month, m.kind == kind, m.axis == axis, m.key == found,
                                m.minutes >= _bucket_bounds(first)[0], m.minutes <= _bucket_bounds(first)[1])
                           for month, found, first in wanted))
            for month, found, minutes, n in (await self.session.execute(
                    select(m.month, m.key, m.minutes, m.n).where(chosen).order_by(m.month, m.key, m.minutes))).all():
                fine.setdefault((month, found, _first_minute(int(minutes))), []).append((int(minutes), int(n)))
        for month, found, first in across:
            inside[(month, found)] += sum(n for minutes, n in fine.get((month, found, first), []) if minutes <= within)
        values: dict[Cell, list[int]] = {}
        for (month, found, first), ranks in medians.items():
            for rank in ranks:
                seen = 0
                for minutes, n in fine.get((month, found, first), []):
                    if seen + n >= rank:
                        values.setdefault((month, found), []).append(minutes)
                        break
                    seen += n
        return {cell: (totals[cell], inside[cell],
                       round(sum(values[cell]) / len(values[cell]), 2) if values.get(cell) else None)
                for cell in buckets}


def _first_minute(minutes: int) -> int:
    """The first minute of the bucket of ``minutes``, as SQL's ``minutes - minutes % BUCKET``."""
    return abs(minutes) // BUCKET * BUCKET * (1 if minutes >= 0 else -1)


def _bucket_bounds(first: int) -> tuple[int, int]:
    """The least and greatest minute of the bucket whose first minute is ``first`` (``minutes -
    minutes % BUCKET``: SQL's remainder takes the sign of the minutes, so 0 holds -63 to 63)."""
    if first > 0:
        return first, first + BUCKET - 1
    if first < 0:
        return first - BUCKET + 1, first
    return -BUCKET + 1, BUCKET - 1


def _middle_ranks(total: int) -> list[int]:
    """The 1-based ranks of the middle one (odd) or two (even) of ``total`` values."""
    if total <= 0:
        return []
    return [(total + 1) // 2] if total % 2 else [total // 2, total // 2 + 1]

