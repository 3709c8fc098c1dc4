"""The fuzzer's invariants: what the database, the log and the sandbox must show after each input.

- ``unauthorised_change``: an order, rating, team, sub-team, building, membership, role or dialog
  changed by someone who may not change it (an order's status and assignee only through its own
  team's approved members, its resident and coordinators; teams only through coordinators; roles
  only through admins; a dialog only through its owner). Changes the bot makes on its own (the
  escalation ladder: order events without an actor) are allowed.
- ``own_request``: someone was assigned their own request.
- ``foreign_data``: one person's data read or erased through another: a ``/mydata`` file queued to
  any chat but the actor's own or about anyone but the actor, or someone other than the actor
  forgotten (their Telegram id detached, their name or phone erased, the contact of a request they
  placed or their membership's name or phone emptied) — by anyone, coordinators included.
- ``replay_changed_state``: an update delivered again changed anything.
- ``unhandled_exception``: a log record at ERROR or above while handling.
- ``unanswered_callback``: a tap still unanswered once the bot acknowledged its update.
- ``unacknowledged``: an update the bot did not acknowledge within :data:`ACK_TIMEOUT`.
- ``broken_html`` / ``refused_send``: a send the sandbox refused with "can't parse entities", or
  for another reason a person would see as silence (too long, empty).
- ``silent``: the canary's /start got no answer after an example.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, select

from bot.adapters.app import BotApplication
from storage import models
from storage.privacy import REDACTED, is_forgotten_chat
from storage.repositories import FORGET_OFFER
from tests.fuzz.inputs import Input

INVARIANTS = ("unauthorised_change", "own_request", "foreign_data", "replay_changed_state", "unhandled_exception",
              "unanswered_callback", "unacknowledged", "broken_html", "refused_send", "silent")



@dataclass(frozen=True)
class Violation:
    """One broken invariant, with the input that broke it (None: the example as a whole)."""

    invariant: str
    detail: str
    culprit: Input | None


@dataclass
class Tally:
    """Counts over a whole run: inputs played, by kind, and violations by invariant."""

    inputs: int = 0
    examples: int = 0
    by_kind: collections.Counter[str] = field(default_factory=collections.Counter)
    violations: collections.Counter[str] = field(default_factory=collections.Counter)
    reports: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    deaf: bool = False
    # Dialog step the actor was at ("request:description") → kinds of input played there.
    at_step: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))
    # Inputs that changed each tracked table (so a clean run shows the checks saw real changes).
    changes: collections.Counter[str] = field(default_factory=collections.Counter)
    keep: int = 40  # failing examples kept in ``reports``
    report_file: Path | None = None  # every failing example is appended here as it happens

    def record(self, example: list[Input], found: list[Violation]) -> None:
        self.examples += 1
        for violation in found:
            self.violations[violation.invariant] += 1
        if not found:
            return
        lines = [f"example {self.examples}:"] + [f"  {i}. {inp}" for i, inp in enumerate(example, 1)]
        lines += [f"  ✗ {v.invariant}: {v.detail}" + (f"  ← {v.culprit}" if v.culprit else "") for v in found]
        if len(self.reports) < self.keep:
            self.reports.append("\n".join(lines))
        if self.report_file is not None:
            with self.report_file.open("a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n\n")

    def summary(self) -> dict[str, Any]:
        seconds = time.monotonic() - self.started
        return {"inputs": self.inputs, "examples": self.examples, "seconds": round(seconds, 1),
                "inputs_per_second": round(self.inputs / seconds, 2) if seconds else 0.0,
                "failures": {name: self.violations.get(name, 0) for name in INVARIANTS},
                "deaf": self.deaf, "by_kind": dict(sorted(self.by_kind.items())),
                "inputs_that_changed": dict(sorted(self.changes.items())),
                "kinds_at_dialog_step": {step: len(kinds) for step, kinds in sorted(self.at_step.items())}}


class ErrorRecords(logging.Handler):
    """Every log record at ERROR or above, from any logger, while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken, self.records = self.records, []
        return [(f"{r.name}: {r.getMessage()[:200]}" + (f" [{r.exc_info[0].__name__}: {str(r.exc_info[1])[:200]}]"
                                                        if r.exc_info and r.exc_info[0] else ""))
                for r in taken]

    @contextlib.contextmanager
    def installed(self) -> Any:
        root = logging.getLogger()
        root.addHandler(self)
        try:
            yield self
        finally:
            root.removeHandler(self)


# -- the database as the invariants see it ----------------------------------------------------------
TRACKED: dict[str, tuple[type[Any], tuple[str, ...]]] = {
    "orders": (models.Order, ("resident_id", "status", "team_id", "volunteer_id", "category", "description",
                              "community", "building", "address_detail", "when_text", "contact_phone", "round",
                              "hours", "offer_cards", "contact_name")),
    "ratings": (models.Rating, ("order_id", "round", "resident_id", "stars", "solved", "comment")),
    "users": (models.User, ("telegram_id", "is_coordinator", "language", "on_duty", "quiet_start", "quiet_end",
                            "building_id", "first_name", "home_phone")),
    "teams": (models.Team, ("code", "name", "categories", "chat_id", "active")),
    "subteams": (models.SubTeam, ("team_id", "skill", "name")),
    "buildings": (models.Building, ("code", "community", "name", "leader_id")),
    "volunteers": (models.Volunteer, ("user_id", "team_id", "name", "phone", "status", "skills", "kind",
                                      "organisation", "is_leader", "community")),
    "dialogs": (models.Dialog, ("user_id", "flow", "step", "data")),
}


@dataclass(frozen=True)
class Snapshot:
    """The tracked tables: table → primary key → the tracked columns (as a dict)."""

    tables: dict[str, dict[Any, dict[str, Any]]]
    last_event: int
    # /mydata files queued: outbox row → (chat, the person the file is about); /forget's questions.
    mydata: dict[int, tuple[int, int]] = field(default_factory=dict)
    questions: tuple[int, ...] = ()

    def row(self, table: str, key: Any) -> dict[str, Any] | None:
        return self.tables[table].get(key)

    def user_of(self, telegram_id: int | None) -> int | None:
        for key, user in self.tables["users"].items():
            if user["telegram_id"] == telegram_id:
                return int(key)
        return None

    def members(self, team_id: int | None) -> set[int]:
        """Users approved in a team."""
        return {v["user_id"] for v in self.tables["volunteers"].values()
                if v["team_id"] == team_id and v["status"] == "approved" and v["user_id"] is not None}

    def leaders(self, team_id: int | None) -> set[int]:
        return {v["user_id"] for v in self.tables["volunteers"].values()
                if v["team_id"] == team_id and v["status"] == "approved" and v["is_leader"]}


async def snapshot(application: BotApplication) -> Snapshot:
    deps = application.bot_data.deps
    assert deps is not None
    tables: dict[str, dict[Any, dict[str, Any]]] = {}
    async with deps.sessions() as session:
        for name, (model, columns) in TRACKED.items():
            key = model.user_id if model is models.Dialog else model.id
            rows = (await session.execute(select(key, *(getattr(model, c) for c in columns)))).all()
            tables[name] = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}
        last = (await session.execute(select(models.OrderEvent.id).order_by(models.OrderEvent.id.desc())
                                      .limit(1))).scalar()
        payload = cast(models.OutboxMessage.payload, Text)
        marked = (await session.execute(select(models.OutboxMessage.id, models.OutboxMessage.chat_id,
                                               models.OutboxMessage.payload)
                                        .where(payload.contains('"mydata"') | payload.contains(FORGET_OFFER)))).all()
    mydata = {row_id: (chat, int(body["attachment"]["user"])) for row_id, chat, body in marked
              if isinstance(body.get("attachment"), dict) and body["attachment"].get("kind") == "mydata"}
    questions = tuple(sorted(row_id for row_id, _chat, body in marked if body.get(FORGET_OFFER)))
    return Snapshot(tables, int(last or 0), mydata, questions)


async def system_orders(application: BotApplication, after_event: int) -> set[int]:
    """Orders with an event the bot made on its own (no actor) after ``after_event``."""
    deps = application.bot_data.deps
    assert deps is not None
    async with deps.sessions() as session:
        rows = await session.execute(select(models.OrderEvent.order_id).where(
            models.OrderEvent.id > after_event, models.OrderEvent.actor_id.is_(None)))
        return {int(r[0]) for r in rows}


def changed(before: Snapshot, after: Snapshot, table: str) -> Iterable[tuple[Any, dict[str, Any] | None,
                                                                              dict[str, Any] | None]]:
    old, new = before.tables[table], after.tables[table]
    for key in sorted(set(old) | set(new), key=repr):
        if old.get(key) != new.get(key):
            yield key, old.get(key), new.get(key)


def difference(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if before is None or after is None:
        return "created" if before is None else "deleted"
    return ", ".join(f"{k}: {before[k]!r}→{after[k]!r}" for k in before if before[k] != after[k])[:300]


def unauthorised(before: Snapshot, after: Snapshot, actor_uid: int | None, admin_uids: set[int],
                 system: set[int]) -> list[str]:
    """Changes between two snapshots that ``actor_uid`` (None: nobody we know) was not allowed to make."""
    coordinators = {k for k, u in before.tables["users"].items() if u["is_coordinator"]} | admin_uids
    privileged = actor_uid is not None and actor_uid in coordinators
    problems: list[str] = []

    def refuse(table: str, key: Any, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        problems.append(f"{table} {key} {difference(old, new)} by user {actor_uid}")

    for key, old, new in changed(before, after, "orders"):
        if key in system or privileged:
            continue
        if old is None:
            if new is None or new["resident_id"] != actor_uid:
                refuse("orders", key, old, new)
            continue
        offered = {int(team) for team in (old["offer_cards"] or {})}  # the escalation ladder's offers
        allowed = {old["resident_id"], old["volunteer_id"]} | before.members(old["team_id"])
        for team in offered:
            allowed |= before.members(team)
        reopened = new is not None and new["team_id"] is None and actor_uid == old["resident_id"]  # a poor rating
        taken_on_offer = new is not None and new["team_id"] in offered and actor_uid in before.members(new["team_id"])
        if new is None or actor_uid not in allowed or old["resident_id"] != new["resident_id"]:
            refuse("orders", key, old, new)
        elif old["team_id"] != new["team_id"] and not (reopened or taken_on_offer):
            refuse("orders", key, old, new)  # only coordinators move an order to another team
        elif new["volunteer_id"] not in (None, old["volunteer_id"], actor_uid):
            refuse("orders", key, old, new)  # nobody assigns an order to someone else
    for key, old, new in changed(before, after, "ratings"):
        order = before.row("orders", (new or old or {}).get("order_id"))
        cut = (old is not None and new is not None and {**old, "comment": None} == {**new, "comment": None}
               and REDACTED in (new["comment"] or ""))  # a forgotten person's name cut out of a comment
        if (order is None or order["resident_id"] != actor_uid) and not cut:
            refuse("ratings", key, old, new)
    for key, old, new in changed(before, after, "users"):
        if old is None:
            continue  # anyone may be recorded (a command may name them)
        appointed = old["is_coordinator"] != (new or {}).get("is_coordinator")
        if appointed and key == actor_uid and new is not None and not new["is_coordinator"]:
            appointed = False  # giving up one's own role (/forget)
        if (appointed and actor_uid not in admin_uids) or (key != actor_uid and not privileged):
            refuse("users", key, old, new)
    for table in ("teams", "subteams", "buildings"):
        for key, old, new in changed(before, after, table):
            stepped_down = (table == "buildings" and old is not None and new is not None
                            and old["leader_id"] == actor_uid and {**old, "leader_id": None} == new)  # /forget
            if not privileged and not stepped_down:
                refuse(table, key, old, new)
    for key, old, new in changed(before, after, "volunteers"):
        row = new or old or {}
        if privileged or actor_uid in before.leaders(row.get("team_id")):
            continue
        own = row.get("user_id") == actor_uid and (old is None or old["user_id"] == actor_uid)
        promoted = new is not None and (new["status"] == "approved" or new["is_leader"]) and (
            old is None or old["status"] != new["status"] or old["is_leader"] != new["is_leader"])
        if not own or promoted:
            refuse("volunteers", key, old, new)
    for key, old, new in changed(before, after, "dialogs"):
        if key != actor_uid:
            refuse("dialogs", key, old, new)
    return problems


def foreign_data(before: Snapshot, after: Snapshot, actor_uid: int | None) -> list[str]:
    """One person's data read or erased through another (see ``foreign_data`` above), whatever the
    actor's roles."""
    problems: list[str] = []
    people = {**after.tables["users"], **before.tables["users"]}  # the actor's Telegram id before a forget
    actor_chat = people[actor_uid]["telegram_id"] if actor_uid in people else None
    for row, (chat, about) in sorted(after.mydata.items()):
        if row not in before.mydata and (chat != actor_chat or about != actor_uid):
            problems.append(f"/mydata of user {about} queued to chat {chat} by user {actor_uid}")
    for key, old, new in changed(before, after, "users"):
        if old is None or new is None or key == actor_uid:
            continue
        if is_forgotten_chat(new["telegram_id"]) or (old.get("first_name") and not new.get("first_name")) or (
                old.get("home_phone") and not new.get("home_phone")):
            problems.append(f"user {key} forgotten by user {actor_uid}")
    for key, old, new in changed(before, after, "orders"):
        if old is not None and new is not None and old["resident_id"] != actor_uid and (
                (old["contact_phone"] and not new["contact_phone"])
                or (old.get("contact_name") and not new.get("contact_name"))):
            problems.append(f"order {key}'s contact erased by user {actor_uid}")
    for key, old, new in changed(before, after, "volunteers"):
        if old is not None and new is not None and old["user_id"] != actor_uid and (
                (old["phone"] and not new["phone"]) or (old["name"] and not new["name"])):
            problems.append(f"membership {key} erased by user {actor_uid}")
    return problems
