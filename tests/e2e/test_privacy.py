"""The resident's phone number and address reach exactly one place: the assigned volunteer's
private chat (and the resident's own). The whole loop runs with distinctive values (the resident
also types the phone number into the description, and, with a poor rating, into the comment that
goes to the coordinators), then every place they could leak to is scanned:

(a) every message of every chat the sandbox knows, earlier versions (edits) included, except the
    assignee's and the resident's private chats;
(b) the callback data of every button ever shown anywhere, the allowed chats included;
(c) every Bot API call the bot made, except those addressed to the assignee's or the resident's
    private chat (answerCallbackQuery texts included);
(d) every log record emitted while the bot ran, every logger at DEBUG.

A positive control proves each scan can see the values: they are in the assignee's protected
details message and in the calls to the assignee's chat. The loser of the Accept race never sees them.

Then phone numbers typed every way (dashes, dots, slashes, Chinese and full-width numerals) into
every free-text field a group could be shown — description, community, time, a forwarded rating
comment — through cards, the escalation ladder and the daily and weekly digests: none is readable
in any group message.
"""

from __future__ import annotations

import collections
import html
import json
import logging
import re
import traceback
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy

from bot.domain.phones import shown_phone
from bot.views.common import SHARE_PHONE
from sandbox import SandboxClient, SandboxServer
from storage.db import create_engine
from tests.e2e.harness import (
    BUILDING_Q,
    COMMUNITY_Q,
    CONFIRM_TODAY,
    DETAIL_Q,
    Cast,
    JumpClock,
    begin_request,
    bot_running,
    contact_question,
    finish_and_rate,
    join_team,
    make_settings,
    next_of,
    outbox_drained,
    set_up_centre,
    tr,
    wait_text,
)
from tests.e2e.harness import cast_of as harness_cast_of
from tests.e2e.harness import place_order as harness_place_order

LANGUAGE = "zh"
RESIDENT_NAME = "Ximenaqwv"
PHONE = "+8619876543210"
BUILDING = "紫荆苑QX7731栋4单元"
DETAIL = "ZK5529室 knock twice"
# What must never leak, as distinctive pieces (so a re-formatted value is caught too).
NEEDLES = {"phone": "19876543210", "building": "QX7731", "detail": "ZK5529"}
# The resident's name is kept out of groups as well (Telegram hands it to the bot in every update,
# so the log scan does not look for it).
GROUP_NEEDLES = {**NEEDLES, "name": RESIDENT_NAME}
LOGGERS = ("telegram", "httpx", "httpcore", "apscheduler", "aiosqlite", "asyncpg", "sqlalchemy", "tornado",
           "asyncio", "bot", "storage", "alembic")


@dataclass
class Loop:
    cast: Cast
    number: int
    assignee_id: int
    other_volunteer_id: int


async def cast_of(sandbox: SandboxClient) -> Cast:
    return await harness_cast_of(sandbox, LANGUAGE, resident_name=RESIDENT_NAME, phone=PHONE)


async def place_order(cast: Cast) -> int:
    """The request dialog with the distinctive address; the description also holds the phone."""
    return await harness_place_order(cast, LANGUAGE, description=f"厨房水管漏水 kitchen pipe leaks, call me on {PHONE}",
                                     building=BUILDING, detail=DETAIL)


async def run_loop(server: SandboxServer, sandbox: SandboxClient, database_url: str, mode: str,
                   rating: str = "good") -> Loop:
    """Order → dispatch → accept (Vera wins, Victor loses) → on my way → done → hours → rate → comment.

    ``rating``: ``good`` (five stars, a kind comment) or ``poor`` (two stars, so the order is reopened
    and the comment goes to the coordinators; the resident repeats the phone number in it)."""
    _ = tr(LANGUAGE)
    cast = await cast_of(sandbox)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, mode) as application:
        await set_up_centre(Cast(**{**vars(cast), "volunteers": []}), LANGUAGE)
        for volunteer in cast.volunteers:
            await join_team(cast, volunteer, LANGUAGE)
        number = await place_order(cast)
        await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                        chat_id=cast.coordinators_group.id)
        await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id)
        card = await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
        vera, victor = cast.volunteers
        won = await vera.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
        assert not won.show_alert, won
        lost = await victor.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id,
                                                message_id=card.message_id)
        assert lost.show_alert, lost
        details = await wait_text(vera, PHONE)
        verdict = _("😊 Satisfied") if rating == "good" else _("😞 Not satisfied")
        await finish_and_rate(cast, LANGUAGE, vera, details, number, verdict=verdict)
        if rating == "poor":
            await wait_text(cast.coordinator, _("♻️ Request #{number} reopened", number=number),
                            chat_id=cast.coordinators_group.id)
        await wait_text(cast.resident, _("Thank you! Would you like to add a comment? Type it, or tap Skip."))
        comment = "非常好 very good" if rating == "good" else f"还在漏水 still leaking, call me on {PHONE}"
        await cast.resident.send(comment)
        await wait_text(cast.resident, _("Thank you for your feedback!"))
        if rating == "poor":
            await wait_text(cast.coordinator, _("Comment on reopened request #{number}: {comment}", number=number,
                                                comment="").split(":")[0], chat_id=cast.coordinators_group.id)
        rated = _("Status: done, rated {verdict}", verdict=verdict)
        await cast.team_group.wait_for(lambda chat: rated in (chat.message(card.message_id).text or ""))
        await outbox_drained(application)  # the last messages (the comment to Vera) go out before the bot stops
    return Loop(cast, number, vera.id, victor.id)


# -- scanning -------------------------------------------------------------------------------------
def normalised(value: Any) -> str:
    """A value as readable text: JSON strings decoded, non-ASCII unescaped, HTML entities resolved."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return normalised(json.loads(stripped))
            except ValueError:
                pass
        return html.unescape(value)
    if isinstance(value, dict):
        return " ".join(f"{normalised(k)}={normalised(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return " ".join(normalised(v) for v in value)
    return html.unescape(json.dumps(value, ensure_ascii=False, default=str))


def leaks(text: str, needles: dict[str, str]) -> list[str]:
    return [name for name, needle in needles.items() if needle in text]


def message_versions(message: Any) -> list[tuple[str, list[list[dict[str, Any]]]]]:
    """(text, buttons) of every version a message ever showed, oldest first."""
    return ([(v["text"] or "", v["buttons"]) for v in message.history] + [(message.text or "", message.buttons)])


def every_button(buttons: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [b for row in buttons for b in row]


def markup_buttons(markup: Any) -> list[dict[str, Any]]:
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return []
    if not isinstance(markup, dict):
        return []
    return [b for row in markup.get("inline_keyboard", []) for b in row if isinstance(b, dict)]


def log_text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + "".join(traceback.format_exception(*record.exc_info))
    if record.stack_info:
        text += "\n" + record.stack_info
    return text


async def vera_chat_redacted(sandbox: SandboxClient, chat_id: int) -> Any:
    """The assignee's chat once no message shows the resident's phone any more (the redaction
    follows the rating in the outbox)."""
    return await sandbox.wait_for(chat_id, lambda chat: not any(
        NEEDLES["phone"] in (m.text or "") for m in chat.bot_messages))


# -- the tests ------------------------------------------------------------------------------------
@pytest.mark.parametrize("rating", ["good", "poor"])
async def test_personal_data_reaches_only_the_assignee(server: SandboxServer, sandbox: SandboxClient,
                                                       database_url: str, rating: str) -> None:
    loop = await run_loop(server, sandbox, database_url, "polling", rating)
    cast = loop.cast
    allowed_chats = {loop.assignee_id, cast.resident.id}

    # Positive control: the details were in the assignee's chat, protected from forwarding, until the
    # request was rated (closed, or reopened and no longer theirs): then redacted (docs/retention.md) ...
    vera_chat = await vera_chat_redacted(sandbox, loop.assignee_id)
    details = [m for m in vera_chat.bot_messages if any(NEEDLES["phone"] in t for t, _ in message_versions(m))]
    assert len(details) == 1, [m.text for m in vera_chat.bot_messages]
    assert details[0].protect_content
    assert sorted(leaks(message_versions(details[0])[0][0], NEEDLES)) == sorted(NEEDLES)
    assert leaks(details[0].text or "", NEEDLES) == [] and details[0].buttons == []
    # ... and the loser, like everyone else, never saw them.
    victor_chat = await sandbox.chat(loop.other_volunteer_id)
    assert victor_chat.bot_messages, "Victor's chat should hold his registration dialog"
    assert not [(m.text, leaks(t, NEEDLES)) for m in victor_chat.messages for t, _ in message_versions(m)
                if leaks(t, NEEDLES)]

    # (a) every chat the sandbox knows, every version of every message.
    groups_seen = 0
    found: list[tuple[int, int, str, list[str]]] = []
    for chat_id, chat in sorted(server.world.chats.items()):
        view = await sandbox.chat(chat_id)
        if chat.type != "private":
            groups_seen += 1
            needles = GROUP_NEEDLES
        elif chat_id in allowed_chats:
            continue
        else:
            needles = NEEDLES
        for message in view.messages:
            for text, _buttons in message_versions(message):
                for version_text in (text, html.unescape(text)):
                    if leaks(version_text, needles):
                        found.append((chat_id, message.message_id, version_text, leaks(version_text, needles)))
                        break
    assert groups_seen == 2, "the coordinators' group and the team group"
    assert found == [], found

    # (b) the callback data of every button ever shown, in every chat, allowed ones included,
    # plus every keyboard the bot ever sent.
    callback_data: list[str] = []
    for chat_id in server.world.chats:
        for message in (await sandbox.chat(chat_id)).messages:
            for _text, buttons in message_versions(message):
                callback_data += [b["callback_data"] for b in every_button(buttons) if "callback_data" in b]
    calls = await sandbox.calls()
    for call in calls:
        callback_data += [str(b["callback_data"]) for b in markup_buttons(call["params"].get("reply_markup"))
                          if "callback_data" in b]
    assert len(callback_data) > 20, "the scan must see the loop's buttons"
    assert [d for d in callback_data if leaks(d, GROUP_NEEDLES)] == []

    # (c) every Bot API call not addressed to the two allowed private chats.
    bad_calls = []
    for call in calls:
        chat_id = call["chat_id"]
        if chat_id is not None and int(chat_id) in allowed_chats:
            continue
        needles = GROUP_NEEDLES if chat_id is not None and int(chat_id) < 0 else NEEDLES
        text = normalised(call["params"])
        if leaks(text, needles):
            bad_calls.append((call["seq"], call["method"], chat_id, leaks(text, needles)))
    assert bad_calls == [], bad_calls
    answers = [c for c in calls if c["method"].lower() == "answercallbackquery"]
    assert answers and all(not leaks(normalised(c["params"].get("text") or ""), NEEDLES) for c in answers)
    # The same scan does see the values in the calls it skipped (so it could fail).
    to_vera = [c for c in calls if c["chat_id"] is not None and int(c["chat_id"]) == loop.assignee_id]
    assert any(sorted(leaks(normalised(c["params"]), NEEDLES)) == sorted(NEEDLES) for c in to_vera)
    assert any(str(c["params"].get("protect_content")).lower() == "true" and NEEDLES["phone"] in
               normalised(c["params"]) for c in to_vera)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_no_personal_data_in_any_log_record(server: SandboxServer, sandbox: SandboxClient, database_url: str,
                                                  mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    await run_loop(server, sandbox, database_url, mode)
    records = list(caplog.records)

    # Positive control: the scan reads the records the bot and its libraries emit.
    # (python-telegram-bot's own records below WARNING are dropped by bot.logsafety: they carry payloads.)
    names = {r.name for r in records}
    assert any(n.startswith("httpx") for n in names) and any(n.startswith("httpcore") for n in names), names
    assert any(r.levelno == logging.DEBUG for r in records)
    assert any("sendmessage" in log_text(r).lower() for r in records if r.name.startswith("httpx"))

    offenders: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for record in records:
        text = log_text(record)
        hit = leaks(text, NEEDLES)
        if hit:
            offenders[(record.name, record.levelname)].append(f"{hit}: {text[:300]}")
    summary = {f"{name} {level}": f"{len(lines)} record(s), e.g. {lines[0]}"
               for (name, level), lines in sorted(offenders.items())}

    def report(found: dict[str, str]) -> str:
        return "personal data in log records:\n" + "\n".join(f"  {k}: {v}" for k, v in found.items())

    # The bot's own log lines (bot.*, storage.*) first, at every level ...
    own = {key: value for key, value in summary.items() if key.split(".")[0] in ("bot", "storage")}
    assert not own, report(own)
    # ... then every line any library writes when a developer turns every logger up to DEBUG.
    assert not summary, report(summary)


# -- phone numbers typed into every free-text field ---------------------------------------------------
# Each field holds its own number, typed a different way (the formats of the issue and more); none
# may be readable in any group message, in any version, cards, digests and forwarded comments alike.
PLANTED_WHEN = "today, call 13812345601 first"
PLANTED_COMMUNITY = "Sunny Garden, Wang Fang 138-1234-5602"
PLANTED_DESCRIPTION = "水管漏了 138.1234.5603，或 138/1234/5604，或 一三八一二三四五六〇五，或 １３８１２３４５６０６"
PLANTED_COMMENT = "还在漏水 still leaking, 幺三八 1234 56〇7"
PLANTED = [f"138123456{n:02d}" for n in range(1, 8)]
DIGITS = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)},
                        **dict(zip("〇零一二三四五六七八九幺两", "0012345678912", strict=True))})


def readable_numbers(text: str) -> list[str]:
    """Which planted numbers a reader could dial from ``text`` (separators and numerals undone)."""
    digits = re.sub(r"[\s.\-/()\[\]_:~·，、]", "", html.unescape(text).translate(DIGITS))
    return [number for number in PLANTED if number[-7:] in digits]


async def place_planted_order(cast: Cast) -> int:
    """The request dialog with a number in the description, the community and the typed time."""
    _ = tr(LANGUAGE)
    resident = cast.resident
    await begin_request(resident, LANGUAGE)
    for answer, question in [
        (PLANTED_DESCRIPTION, _(COMMUNITY_Q)), (PLANTED_COMMUNITY, _(BUILDING_Q)), ("3栋2单元", _(DETAIL_Q)),
        ("502室", contact_question(LANGUAGE))]:
        await resident.send(answer)
        await wait_text(resident, question)
    await resident.skip_to_now()
    await resident.press(_(SHARE_PHONE))
    first = await next_of(resident, _(CONFIRM_TODAY))
    await resident.tap(_("🕒 Another time"), message_id=first.message_id)
    await wait_text(resident, _("When should the volunteer come? (e.g. Saturday 9:00)"))
    await resident.skip_to_now()
    await resident.send(PLANTED_WHEN)
    summary = await next_of(resident, _("✅ Confirm"))
    assert readable_numbers(summary.text or "") == PLANTED[:6]  # the scan can read every planted number
    await resident.tap(_("✅ Confirm"), message_id=summary.message_id)
    received = await wait_text(resident, "#")
    match = re.search(r"#(\d+)", received.text or "")
    assert match, received
    return int(match.group(1))


async def test_numbers_typed_in_any_field_never_reach_a_group(server: SandboxServer, sandbox: SandboxClient,
                                                              database_url: str) -> None:
    """Cards, the escalation ladder, the daily and weekly digests and a forwarded comment, with a
    phone number in every free-text field a resident types."""
    _ = tr(LANGUAGE)
    clock = JumpClock()
    cast = await cast_of(sandbox)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE,
                             reminders={"sweep_seconds": 0.1})
    async with bot_running(settings, "polling", clock=clock):
        await set_up_centre(cast, LANGUAGE)
        number = await place_planted_order(cast)
        await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                        chat_id=cast.coordinators_group.id)
        await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id)
        card = await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
        # Tuesday 09:00 → Wednesday 08:01 (daily digest) → Monday 08:01 (weekly digest), ladder on the way.
        clock.advance(23 * 3600 + 60)
        await wait_text(cast.coordinator, _("<b>📋 Digest {day}</b>", day="|").split("<b>")[1].split("|")[0],
                        chat_id=cast.coordinators_group.id)
        clock.advance(5 * 24 * 3600)
        await wait_text(cast.volunteers[0], _("<b>📋 Open requests of team {team}: {count}</b>", team="维修队",
                                              count=1).split("<b>")[1].split("</b>")[0],
                        chat_id=cast.team_group.id)
        vera = cast.volunteers[0]
        await vera.tap(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
        details = await wait_text(vera, shown_phone(PHONE))  # as shown: no +86
        await finish_and_rate(cast, LANGUAGE, vera, details, number, verdict=_("😞 Not satisfied"))
        await wait_text(cast.resident, _("Thank you! Would you like to add a comment? Type it, or tap Skip."))
        await cast.resident.send(PLANTED_COMMENT)
        forwarded = await wait_text(cast.coordinator, _("Comment on reopened request #{number}: {comment}",
                                                        number=number, comment="").split(":")[0],
                                    chat_id=cast.coordinators_group.id)
        assert "还在漏水" in (forwarded.text or "")  # the comment is forwarded, its number is not

    seen, found = 0, []
    for chat_id, chat in sorted(server.world.chats.items()):
        if chat.type == "private":
            continue
        for message in (await sandbox.chat(chat_id)).messages:
            for text, _buttons in message_versions(message):
                seen += 1
                if readable_numbers(text):
                    found.append((chat_id, text, readable_numbers(text)))
    assert seen > 15, "the scan must see the cards, digests and alerts"
    assert found == [], found
    # The assignee reads every field as typed (privately): the scan would see a leak.
    assert readable_numbers(details.text or "") == PLANTED[:6]


# -- data at rest: finished outbox rows ---------------------------------------------------------------
async def test_sent_outbox_rows_keep_no_personal_data(server: SandboxServer, sandbox: SandboxClient,
                                                      database_url: str) -> None:
    """After the whole loop (a poor rating: the comment with the phone goes to the coordinators too),
    no finished outbox row keeps the resident's name, phone or address: the text, caption and
    buttons went when the row was sent; the row still says how it was sent."""
    loop = await run_loop(server, sandbox, database_url, "polling", "poor")
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(sqlalchemy.text("SELECT id, chat_id, status, payload FROM outbox"))).all()
            order = (await connection.execute(sqlalchemy.text(
                "SELECT contact_name, contact_phone, building, address_detail FROM orders WHERE id = :id"),
                {"id": loop.number})).one()
    finally:
        await engine.dispose()
    # Positive control: the scan reads the database's own encoding of the values (the order has them).
    assert sorted(leaks(normalised(list(order)), GROUP_NEEDLES)) == sorted(GROUP_NEEDLES)
    finished = [row for row in rows if row.status in ("sent", "failed", "superseded")]
    assert len(finished) > 30 and len(finished) == len(rows), [(r.id, r.status, r.payload) for r in rows
                                                                if r.status not in ("sent", "failed", "superseded")]
    assert [(r.id, r.chat_id, leaks(normalised(r.payload), GROUP_NEEDLES)) for r in finished
            if leaks(normalised(r.payload), GROUP_NEEDLES)] == []
    to_assignee = [normalised(r.payload) for r in finished if r.chat_id == loop.assignee_id]
    assert to_assignee and all("method=" in payload for payload in to_assignee)
