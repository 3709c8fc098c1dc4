"""The fuzzer's world: the real bot against the sandbox with a cast of people, and the invariants
checked after every input.

Each input is played alone: the fuzzer acts through the sandbox, waits until the bot acknowledged
the update (which it does only after handling it), and then compares the database with the snapshot
taken before, so every change is attributed to exactly one person. After each example it lets the
outbox drain, scans the Bot API calls for refused sends, and checks that the bot still answers.
The invariants are in :mod:`tests.fuzz.invariants`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass, replace
from typing import Any

import hypothesis
from hypothesis.strategies import SearchStrategy

from bot.adapters.app import BotApplication
from bot.domain.phones import shown_phone
from bot.views.common import MENU_NEW_REQUEST, SHARE_PHONE
from sandbox import ControlError, SandboxClient, SimGroup, SimUser
from storage.privacy import is_forgotten_chat
from tests.e2e.harness import (
    Cast,
    cast_of,
    outbox_drained,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)
from tests.fuzz.inputs import HUGE, MALFORMED, PLAUSIBLE, Input
from tests.fuzz.invariants import (
    TRACKED,
    ErrorRecords,
    Snapshot,
    Tally,
    Violation,
    changed,
    difference,
    foreign_data,
    snapshot,
    system_orders,
    unauthorised,
)

ACK_TIMEOUT = 10.0
# A refused webhook delivery is retried after half a second (as Telegram backs off), so an update
# the bot keeps refusing does not flood it.
WEBHOOK_RETRY_DELAY = 0.5
CANARY_TIMEOUT = 10.0
ANONYMOUS_ADMIN_ID = 1087968824
LANGUAGE = "zh"
BOT = "@sandbox_bot"
# Sandbox refusals that are no silence towards a person: a duplicate answer, an unchanged edit.
HARMLESS_REFUSALS = ("message is not modified", "query is too old", "message to edit not found",
                     "message can't be edited", "message to delete not found", "message can't be deleted")
SEND_METHODS = {"sendmessage", "sendphoto", "senddocument", "sendvoice", "editmessagetext", "editmessagecaption",
                "editmessagereplymarkup", "answercallbackquery", "copymessage"}


# -- the cast ---------------------------------------------------------------------------------------
@dataclass
class Stage:
    """Who plays: the e2e cast (admin, coordinator, resident, two volunteers, the centre's and the
    team's groups), a second resident, Mallory (a member of both groups with no role), a newcomer
    and the canary who checks the bot still answers."""

    cast: Cast
    people: dict[str, SimUser]
    canary: SimUser
    admin_ids: tuple[int, ...]

    def group(self, name: str) -> SimGroup | None:
        return {"team": self.cast.team_group, "centre": self.cast.coordinators_group}.get(name)


async def make_cast(sandbox: SandboxClient) -> Cast:
    """The e2e cast in Chinese (created before the bot starts: the settings need the admin's id)."""
    return await cast_of(sandbox, LANGUAGE)


async def set_the_stage(cast: Cast, sandbox: SandboxClient) -> Stage:
    """The centre as the e2e tests set it up, plus three orders in different states: the resident's
    taken by Vera, the neighbour's waiting in the team's group, the newcomer's new (not dispatched)."""
    _ = tr(LANGUAGE)
    await set_up_centre(cast, LANGUAGE)
    neighbour = await sandbox.create_user("Rosa", language_code="en", phone_number="+8613900000002")
    mallory = await sandbox.create_user("Mallory", language_code="en", phone_number="+8613900000003")
    newcomer = await sandbox.create_user("Nina", language_code="zh-hans", phone_number="+8613900000004")
    canary = await sandbox.create_user("Canary", language_code="en")
    for group in (cast.team_group, cast.coordinators_group):
        await group.join(mallory)
    vera = cast.volunteers[0]
    taken = await place_order(cast, LANGUAGE)
    await dispatch(cast, taken)
    await vera.tap(_("✋ Accept"), chat_id=cast.team_group.id)
    await wait_text(vera, shown_phone("+8613800000001"))  # the resident's phone, as the volunteer reads it
    waiting = await place_order(replace(cast, resident=neighbour), "en")
    await dispatch(cast, waiting)
    await place_order(replace(cast, resident=newcomer), LANGUAGE)
    people = {"admin": cast.admin, "coordinator": cast.coordinator, "resident": cast.resident,
              "neighbour": neighbour, "vera": vera, "victor": cast.volunteers[1], "mallory": mallory,
              "newcomer": newcomer}
    return Stage(cast, people, canary, (cast.admin.id,))


async def dispatch(cast: Cast, number: int) -> None:
    """The coordinator sends order ``number`` to team 维修队; its card appears in the team's group."""
    _ = tr(LANGUAGE)
    card = await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                           chat_id=cast.coordinators_group.id)
    await cast.coordinator.tap(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id,
                               message_id=card.message_id)
    await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)


# -- playing ------------------------------------------------------------------------------------------
@dataclass
class Played:
    """What one input did in the sandbox."""

    update_id: int | None = None
    query_id: str | None = None
    replay: bool = False
    acted: bool = True
    sent: str | None = None  # what was typed or tapped, when the input left it to the player
    sender: int | None = None  # the Telegram id a malformed update names as its sender, if any


class Fuzzer:
    """Plays inputs against a running bot and checks the invariants after each one."""

    def __init__(self, application: BotApplication, sandbox: SandboxClient, stage: Stage, tally: Tally,
                 errors: ErrorRecords, *, ack_timeout: float = ACK_TIMEOUT) -> None:
        self.application = application
        self.ack_timeout = ack_timeout
        self.sandbox = sandbox
        self.stage = stage
        self.tally = tally
        self.errors = errors
        self.history: list[int] = []  # update ids the bot acknowledged, for replays
        self.calls_seen = 0
        self.translate = tr(LANGUAGE)

    async def prepare(self) -> None:
        self.calls_seen = len(await self.sandbox.calls())
        self.errors.take()

    # -- one example --------------------------------------------------------------------------
    async def run_example(self, example: list[Input]) -> list[Violation]:
        found: list[Violation] = []
        if self.tally.deaf:
            return found
        before = await snapshot(self.application)
        for inp in example:
            before, problems = await self.play_checked(inp, before)
            found += problems
            if any(p.invariant == "unacknowledged" for p in problems) and not await self.canary_answers():
                self.tally.deaf = True
                found.append(Violation("silent", "the bot stopped answering", inp))
                break
        if not self.tally.deaf:
            found += await self.after_example()
        self.tally.record(example, found)
        return found

    async def play_checked(self, inp: Input, before: Snapshot) -> tuple[Snapshot, list[Violation]]:
        problems: list[Violation] = []
        try:
            played = await self.play(inp, before)
        except ControlError:
            played = Played(acted=False)  # the sandbox refused (no such button, not a member): nothing sent
        if not played.acted:
            return before, problems
        # Reports show the input as played: placeholders filled in, the button tapped.
        if inp.kind != "malformed":
            inp = replace(inp, text=played.sent or self.fill(inp.text, before, inp.pick))
        self.tally.inputs += 1
        self.tally.by_kind[inp.kind] += 1
        actor = self.stage.people.get(inp.actor)
        dialog = before.row("dialogs", before.user_of(actor.id)) if actor is not None else None
        if dialog is not None:
            self.tally.at_step[f"{dialog['flow']}:{dialog['step']}"].add(f"{inp.kind}@{inp.chat}")
        if played.update_id is not None:
            if await self.sandbox.acknowledged(played.update_id, timeout=self.ack_timeout):
                if not played.replay:
                    self.history.append(played.update_id)
            else:
                problems.append(Violation("unacknowledged", f"update {played.update_id}", inp))
        if played.query_id is not None and played.query_id in await self.sandbox.pending_callbacks():
            problems.append(Violation("unanswered_callback", f"query {played.query_id}", inp))
        problems += [Violation("unhandled_exception", line, inp) for line in self.errors.take()]
        after = await snapshot(self.application)
        for table in TRACKED:
            if before.tables[table] != after.tables[table]:
                self.tally.changes[table] += 1
        if any(old is not None and new is not None and is_forgotten_chat(new["telegram_id"])
               and not is_forgotten_chat(old["telegram_id"]) for _k, old, new in changed(before, after, "users")):
            self.tally.changes["forgotten"] += 1  # someone erased their data (/forget ✅)
        if set(after.mydata) - set(before.mydata):
            self.tally.changes["mydata"] += 1  # someone asked for their data
        if played.replay:
            if after.tables != before.tables:
                diffs = [f"{t} {k} {difference(o, n)}" for t in TRACKED for k, o, n in changed(before, after, t)]
                problems.append(Violation("replay_changed_state", "; ".join(diffs)[:400], inp))
        else:
            # A malformed update acts for the person it names as its sender (their own dialog, say).
            sender = actor.id if actor else played.sender
            telegram_id = sender if sender is not None else ANONYMOUS_ADMIN_ID if inp.kind == "anonymous" else None
            # the row the person had before, if any: a /forget detaches it from their Telegram id
            actor_uid = before.user_of(telegram_id) or after.user_of(telegram_id)
            admins = {u for u in (before.user_of(t) or after.user_of(t) for t in self.stage.admin_ids)
                      if u is not None}
            system = await system_orders(self.application, before.last_event)
            problems += [Violation("unauthorised_change", p, inp)
                         for p in unauthorised(before, after, actor_uid, admins, system)]
            problems += [Violation("foreign_data", p, inp) for p in foreign_data(before, after, actor_uid)]
        problems += [Violation("own_request", f"order {k} assigned to its own resident", inp)
                     for k, old, new in changed(before, after, "orders")
                     if new is not None and new["volunteer_id"] is not None
                     and new["volunteer_id"] == new["resident_id"]]
        return after, problems

    async def after_example(self) -> list[Violation]:
        found: list[Violation] = []
        with contextlib.suppress(TimeoutError):
            await outbox_drained(self.application, timeout=20.0)
        calls = await self.sandbox.calls(after=self.calls_seen)
        if calls:
            self.calls_seen = calls[-1]["seq"]
        for call in calls:
            description = call.get("description") or ""
            if call["status"] != 400 or call["method"].lower() not in SEND_METHODS:
                continue
            if "can't parse entities" in description:
                found.append(Violation("broken_html", f"{call['method']}: {description}", None))
            elif not any(harmless in description for harmless in HARMLESS_REFUSALS):
                found.append(Violation("refused_send", f"{call['method']}: {description}", None))
        found += [Violation("unhandled_exception", line, None) for line in self.errors.take()]
        if not await self.canary_answers():
            self.tally.deaf = True
            found.append(Violation("silent", "the canary's /start got no answer", None))
        return found

    async def canary_answers(self) -> bool:
        """The canary presses Start and gets the greeting: the bot still answers."""
        canary = self.stage.canary
        await canary.skip_to_now()
        await canary.start()
        try:
            message = await canary.next_message(timeout=CANARY_TIMEOUT)
        except TimeoutError:
            return False
        return "Hello Canary" in (message.text or "")

    # -- one input ------------------------------------------------------------------------------
    def fill(self, text: str, snap: Snapshot, pick: int) -> str:
        """Put run-time ids into a template: an existing order, team, user, team code."""
        def nth(values: list[Any]) -> str:
            return str(values[pick % len(values)]) if values else "1"

        orders = sorted(snap.tables["orders"])
        teams = sorted(snap.tables["teams"])
        replacements = {
            "{order}": nth(orders), "{team}": nth(teams),
            "{user}": nth(sorted(u["telegram_id"] for u in snap.tables["users"].values()
                                 if not is_forgotten_chat(u["telegram_id"]))),  # nobody's chat any more
            "{code}": nth(sorted(t["code"] for t in snap.tables["teams"].values())),
            "{huge}": HUGE[pick % len(HUGE)],
            "{team_chat}": str(self.stage.cast.team_group.id),
            "{question}": nth(list(snap.questions)),  # a /forget question's row, anyone's
        }
        for placeholder, value in replacements.items():
            text = text.replace(placeholder, value)
        return text

    async def play(self, inp: Input, snap: Snapshot) -> Played:
        """Carry out one input in the sandbox (a ControlError: the sandbox refused, nothing sent)."""
        person = self.stage.people.get(inp.actor)
        group = self.stage.group(inp.chat)
        chat_id = group.id if group is not None else None
        return await getattr(self, f"_play_{inp.kind}")(inp, person, chat_id, snap)

    async def _play_malformed(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        kind, payload = MALFORMED[int(inp.text.split(" ", 1)[0].lstrip("#"))]
        filled = _ints(json.loads(self.fill(json.dumps(payload), snap, inp.pick)))
        sender = filled.get("from") if isinstance(filled, dict) else None
        sender_id = sender.get("id") if isinstance(sender, dict) else None
        return Played(await self.sandbox.inject(kind, filled), sender=sender_id if type(sender_id) is int else None)

    async def _play_replay(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        if not self.history:
            return Played(acted=False)
        update_id = self.history[-1 - inp.pick % len(self.history)]
        await self.sandbox.redeliver(update_id)
        return Played(update_id, replay=True)

    async def _play_channel_post(self, inp: Input, person: SimUser | None, chat_id: int | None,
                                 snap: Snapshot) -> Played:
        channel = {"id": -1009999999999, "type": "channel", "title": "News"}
        post: dict[str, Any] = {"message_id": inp.pick + 1, "date": 0, "chat": channel, "sender_chat": channel,
                                "text": inp.text}
        if inp.text.startswith("/"):
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": len(inp.text.split()[0])}]
        return Played(await self.sandbox.inject("edited_channel_post" if inp.flag else "channel_post", post))

    async def _play_anonymous(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert chat_id is not None
        owner = self.stage.cast.coordinator if inp.chat == "team" else self.stage.cast.admin  # the group's creator
        name, _, rest = self.fill(inp.text, snap, inp.pick).partition(" ")
        return Played((await owner.send(f"{name}{BOT} {rest}".strip(), chat_id=chat_id, anonymous=True))["update_id"])

    async def _play_text(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        reply_to = await self.latest_bot_message(person, chat_id) if inp.flag else None
        return Played((await person.send(inp.text, chat_id=chat_id, reply_to=reply_to))["update_id"])

    async def _play_command(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        text = self.fill(inp.text, snap, inp.pick)
        name, _, rest = text.partition(" ")
        if chat_id is not None and "@" not in name:  # in groups, commands name the bot
            text = f"{name}{BOT} {rest}".strip()
        return Played((await person.send(text, chat_id=chat_id))["update_id"])

    async def _play_start(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        return Played((await person.start(self.fill(inp.text, snap, inp.pick)))["update_id"])

    async def _play_advance(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        return await self.advance(person, inp.pick)

    async def _play_tap(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        return await self.tap_any(person, chat_id, inp.pick)

    async def _play_forge(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        data = self.fill(inp.text, snap, inp.pick)
        message_id = await self.some_bot_message(person, chat_id, inp.pick)
        if not data or message_id is None:  # Telegram never sends empty callback data
            return Played(acted=False)
        tap = await person.forge_tap(data, chat_id=chat_id, message_id=message_id)
        return Played(tap.update_id, tap.callback_query_id)

    async def _play_media(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        caption = "<b>看</b> & 13812345678" if inp.flag and inp.text not in ("sticker", "video_note") else None
        return Played((await person.send_file(inp.text, b"fuzz", caption=caption, chat_id=chat_id))["update_id"])

    async def _play_contact(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        if inp.text == "own":
            result = await person.share_contact(chat_id=chat_id)
        elif inp.text == "other":
            others = [p for p in self.stage.people.values() if p.id != person.id]
            result = await person.share_contact(chat_id=chat_id, of_user=others[inp.pick % len(others)])
        else:
            result = await person.share_contact(chat_id=chat_id, phone_number=inp.text)
        return Played(result["update_id"])

    async def _play_location(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        return Played((await person.send_location(31.23, 121.47, chat_id=chat_id))["update_id"])

    async def _play_forward(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        everyone = list(self.stage.people.values())
        origin = everyone[inp.pick % len(everyone)] if inp.flag else None
        return Played((await person.forward(inp.text, origin=origin, chat_id=chat_id))["update_id"])

    async def _play_edit(self, inp: Input, person: SimUser | None, chat_id: int | None, snap: Snapshot) -> Played:
        assert person is not None
        view = await person.chat(chat_id)
        mine = [m for m in view.messages if not m.from_bot and m.sender_id == person.id and m.kind == "text"
                and not m.deleted and "forward_origin" not in m.extra and m.text != inp.text]
        if not mine:
            return Played(acted=False)
        target = mine[-1 - inp.pick % len(mine)]
        return Played((await person.edit(target.message_id, inp.text, chat_id=chat_id, force=inp.flag))["update_id"])

    async def latest_bot_message(self, person: SimUser, chat_id: int | None) -> int | None:
        messages = (await person.chat(chat_id)).bot_messages
        return messages[-1].message_id if messages else None

    async def some_bot_message(self, person: SimUser, chat_id: int | None, pick: int) -> int | None:
        messages = (await person.chat(chat_id)).bot_messages
        return messages[-1 - pick % len(messages)].message_id if messages else None

    async def tap_any(self, person: SimUser, chat_id: int | None, pick: int) -> Played:
        """Tap a real button anywhere in the chat, old cards (stale ones) included."""
        view = await person.chat(chat_id)
        buttons = [(m.message_id, b["text"]) for m in view.bot_messages for row in m.buttons for b in row
                   if "callback_data" in b]
        if not buttons:
            return Played(acted=False)
        message_id, label = buttons[-1 - pick % len(buttons)]
        tap = await person.tap(label, chat_id=chat_id, message_id=message_id)
        return Played(tap.update_id, tap.callback_query_id, sent=label)

    async def advance(self, person: SimUser, pick: int) -> Played:
        """Answer the latest question sensibly (a button of it, the share-phone button, or a plausible
        text), so that random walks reach every step of the request dialog and of /join."""
        view = await person.chat()
        latest = view.bot_messages[-1] if view.bot_messages else None
        if latest is None:
            return Played((await person.start())["update_id"], sent="/start")
        callbacks = [b["text"] for row in latest.buttons for b in row if "callback_data" in b]
        if callbacks:
            label = callbacks[pick % len(callbacks)]
            tap = await person.tap(label, message_id=latest.message_id)
            return Played(tap.update_id, tap.callback_query_id, sent=label)
        keyboard = [label for row in (view.reply_keyboard or []) for label in row]
        share = [label for label in keyboard if label in (self.translate(SHARE_PHONE), tr("en")(SHARE_PHONE))]
        if share:
            return Played((await person.press(share[0]))["update_id"], sent=share[0])
        if pick % 7 == 0 and keyboard:
            new_request = [k for k in keyboard if k in (self.translate(MENU_NEW_REQUEST), tr("en")(MENU_NEW_REQUEST))]
            label = new_request[0] if new_request else keyboard[0]
            return Played((await person.press(label))["update_id"], sent=label)
        text = PLAUSIBLE[pick % len(PLAUSIBLE)]
        return Played((await person.send(text))["update_id"], sent=text)


def _ints(value: Any) -> Any:
    """Filled-in numeric placeholders become numbers again (ids are integers in the Bot API)."""
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,19}", value) and value not in ("1",):
        return int(value)
    return value


async def fuzz(fuzzer: Fuzzer, strategy: SearchStrategy[list[Input]], *, max_examples: int,
               seed: int | None = None, stop_after: int | None = None, explicit: list[list[Input]] = ()) -> None:  # type: ignore[assignment]
    """Generate ``max_examples`` examples with Hypothesis and play each against the running bot.

    The bot lives on this event loop for the whole run (its start-up is paid once); Hypothesis runs
    in a worker thread and hands each example over. Violations are counted in the fuzzer's tally,
    never raised, so every example runs and the examples do not depend on a replay of the run
    (the bot's state carries over from one example to the next). ``seed`` None: derandomized, the
    same inputs on every run; ``stop_after``: play no more once that many inputs were played;
    ``explicit``: examples played first (:func:`tests.fuzz.inputs.tour`).
    """
    loop = asyncio.get_running_loop()

    @hypothesis.settings(max_examples=max_examples, deadline=None, database=None, derandomize=seed is None,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck),
                         print_blob=False)
    @hypothesis.given(strategy)
    def run(example: list[Input]) -> None:
        if fuzzer.tally.deaf or (stop_after is not None and fuzzer.tally.inputs >= stop_after):
            return
        asyncio.run_coroutine_threadsafe(fuzzer.run_example(example), loop).result()

    for example in reversed(explicit):  # decorators apply inside out: keep the given order
        run = hypothesis.example(example)(run)
    if seed is not None:
        run = hypothesis.seed(seed)(run)
    await asyncio.to_thread(run)
