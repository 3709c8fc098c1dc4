"""Team activities through the real application and the sandbox, in both languages: a team leader
creates one by tapping and typing, its card appears in the team's group, twelve volunteers tap
Sign up for ten places (ten in, two waitlisted, and the card says so), one cancels and the first
waitlisted is promoted and told, and the reminders a day and an hour before arrive on the bot's
injected clock. On the day: the leader's check-in QR code (decoded as a phone camera would), one
volunteer types the code, one scans the QR code, the leader marks a third present by hand, the
rest never come; one checks out, the end checks out the others and records the no-shows, and the
hours ledger then holds exactly one entry per person who came, with their own times."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.domain.attendance import served_minutes
from bot.i18n import P_
from sandbox import SandboxClient, SandboxServer, SimUser
from storage.models import ActivitySignup, HoursEntry
from tests.e2e.harness import (
    Cast,
    JumpClock,
    approve_directly,
    before,
    bot_running,
    download,
    latest_photo,
    make_settings,
    set_up_centre,
    tap_on,
    tr,
    wait_text,
)
from tests.support.clocks import FIXED_START
from tests.support.dbfixtures import in_both_languages
from tests.support.qrcodes import decode_qr

pytestmark = in_both_languages
# The bot starts on Tuesday 10 March 2026 at 9:00 in Shanghai; the activity is on Thursday at 10:00.
START_TEXT, STARTS_AT = "3-12 10:00", dt.datetime(2026, 3, 12, 2, 0, tzinfo=dt.UTC)
PLACES, PEOPLE = 10, 12
TITLE, MINUTE = "社区义务维修 Repair day", 60


async def test_a_leader_creates_an_activity_twelve_sign_up_for_ten_and_the_waitlist_moves_up(
        language: str, server: SandboxServer, sandbox: SandboxClient, database_url: str) -> None:
    _ = tr(language)
    clock = JumpClock()
    code = "zh-hans" if language == "zh" else "en"
    admin = await sandbox.create_user("Admin", language_code=code)
    coordinator = await sandbox.create_user("Coco", language_code=code)
    leader = await sandbox.create_user("Lily", language_code=code, phone_number="+8613800000100")
    volunteers = [await sandbox.create_user(f"V{n}", language_code=code, phone_number=f"+86138000001{n:02d}")
                  for n in range(1, PEOPLE + 1)]
    centre = await sandbox.create_group("Centre", creator=admin, members=[coordinator])
    group = await sandbox.create_group("Repair team", creator=coordinator, members=[leader, *volunteers])
    cast = Cast(sandbox, admin, coordinator, leader, [], centre, group)
    settings = make_settings(server, database_url, admins=[admin.id], coordinators_chat_id=centre.id,
                             default_language=language, reminders={"sweep_seconds": 0.1})
    async with bot_running(settings, "polling", clock=clock) as app:
        await set_up_centre(cast, language)
        await approve_directly(app, cast, language, [leader, *volunteers])
        await coordinator.send(f"/team leader repair {leader.id}")
        await wait_text(leader, _("You are now a leader of team {team}. Send /team to see its members "
                                  "and its join link.", team="维修队"))

        # The leader creates it: 📅 Activities, New activity, then one short answer or tap per question.
        await leader.skip_to_now()
        await leader.press(_("📅 Activities"))
        await tap_on(leader, _("You have not signed up for any activity yet. Look for the cards in your team's group."),
                     _("🆕 New activity"))
        await answer(leader, _("📅 What is the activity called? (e.g. Free haircuts at the community centre)"),
                     TITLE)
        await answer(leader, _("🕒 When does it start? Type the day and time, e.g. 12-5 9:00"), START_TEXT)
        await tap_on(leader, _("⏳ How long does it last?"), _("{hours} h", hours=2))
        await answer(leader, _("📍 Where is it? (e.g. Community centre, room 2)"), "阳光社区活动室 Hall 2")
        await tap_on(leader, _("👥 How many volunteers are needed? Tap a number or type one."), str(PLACES))
        await tap_on(leader, _("🎒 What should volunteers bring? Type it, or tap Nothing."), _("Nothing"))
        await tap_on(leader, _("⏰ When does sign-up close?"), _("3 hours before"))
        await tap_on(leader, _("🛠 Does it need a particular skill?"), _("No, anyone can help"))
        await tap_on(leader, _("Please check the activity, then tap Publish:"), _("📣 Publish"))
        await wait_text(leader, _(P_("📣 Published in {count} team group. Check-in code: <b>{code}</b>",
                                     "📣 Published in {count} team groups. Check-in code: <b>{code}</b>"),
                                  count=1, code="").split("<b>")[0])

        # The card in the team's group; twelve tap Sign up, one after another.
        card = await wait_text(volunteers[0], _("👥 Signed up: {taken}/{capacity}", taken=0, capacity=PLACES),
                               chat_id=group.id)
        assert "Repair day" in (card.text or "") and "Hall 2" in (card.text or "")
        answers = []
        for volunteer in volunteers:
            answers.append(await volunteer.tap_and_read_answer(_("🙋 Sign up"), chat_id=group.id,
                                                               message_id=card.message_id))
        assert [a.text for a in answers] == [_("✅ You are signed up. Thank you!")] * PLACES + [
            _("⏳ You are on the waitlist (number {turn}).", turn=turn) for turn in (1, 2)]
        full = await wait_text(volunteers[0], _("⏳ Waitlist: {count}", count=2), chat_id=group.id)
        assert full.message_id == card.message_id  # the same card, edited
        assert _("👥 Signed up: {taken}/{capacity}", taken=PLACES, capacity=PLACES) in (full.text or "")
        first_waiting = volunteers[PLACES]
        await wait_text(first_waiting, _("⏳ All places are taken, so you are number {turn} on the waitlist. If a "
                                         "place becomes free, it is yours and we will tell you.", turn=1))

        # One with a place cancels on the card: the first on the waitlist has it, and is told.
        cancelled = await volunteers[2].tap_and_read_answer(_("↩️ Cancel my sign-up"), chat_id=group.id,
                                                            message_id=card.message_id)
        assert cancelled.text == _("↩️ Your sign-up is cancelled. Thank you for letting us know.")
        await wait_text(first_waiting, _("🎉 A place became free and it is yours: you are signed up!"))
        await wait_text(volunteers[0], _("⏳ Waitlist: {count}", count=1), chat_id=group.id)

        # The reminders, on the bot's clock: a day before and an hour before, to those with a place.
        reminder = _("⏰ Reminder: your activity starts in about {hours} h. See you there!", hours=24)
        clock.advance((STARTS_AT - dt.timedelta(hours=24) - FIXED_START).total_seconds())
        await wait_text(first_waiting, reminder, timeout=15)
        await wait_text(volunteers[0], reminder, timeout=15)
        clock.advance(23 * 3600)
        await wait_text(first_waiting, _("⏰ Reminder: your activity starts in about {hours} h. See you there!",
                                         hours=1), timeout=15)
        for left_out in (volunteers[2], volunteers[PLACES + 1]):  # cancelled, still waiting: no reminder
            texts = [m.text or "" for m in (await left_out.chat()).bot_messages]
            assert not any(reminder.split("{")[0][:12] in t for t in texts)

        # The day. Check-in opens half an hour before the start: the leader's button gives the QR code.
        clock.advance(40 * MINUTE)  # 20 minutes before the start
        await leader.press(_("📍 Activity check-in"))
        photo = await latest_photo(leader)
        scanned = decode_qr(await download(server, photo))
        payload = scanned.split("start=")[1]
        assert scanned == f"https://t.me/{app.bot.username}?start={payload}" and payload.startswith("act_")
        typed_code = payload.removeprefix("act_")
        assert typed_code in (photo.text or "")
        checked_in = before(_("Welcome to <b>{title}</b>! You are checked in at {time}. Thank you for coming. When "
                              "you leave, tap Check out (or send the code again).", title=TITLE, time="\x00"))
        typed, scanning, by_hand = volunteers[0], volunteers[1], volunteers[3]
        await typed.send(typed_code.lower())  # typed as it comes, in lower case
        typed_in = await wait_text(typed, checked_in)
        await scanning.start(payload)  # what Telegram sends when the QR code's link is opened
        await wait_text(scanning, checked_in)
        clock.advance(30 * MINUTE)
        await leader.tap(_("✅ {name} is here", name=by_hand.first_name))
        await wait_text(by_hand, before(_("The team leader marked you present at <b>{title}</b> ({time}). Thank you "
                                          "for coming! When you leave, tap Check out.", title=TITLE, time="\x00")))
        clock.advance(30 * MINUTE)
        await typed.tap(_("👋 Check out"), message_id=typed_in.message_id)
        await wait_text(typed, before(_("You are checked out of <b>{title}</b> at {time}. {hours} h of service "
                                        "recorded. Thank you, see you next time!", title=TITLE, time="\x00",
                                        hours="\x00")))
        clock.advance(90 * MINUTE)  # past the end: the sweep finishes it
        await wait_text(leader, before(_("🏁 <b>{title}</b> is finished. Came: {present}. Did not come: {absent}. "
                                         "Hours of service: {hours} h.", title=TITLE, present=3, absent=PLACES - 3,
                                         hours="\x00")), timeout=15)

        # The ledger: one entry per person who came, from their check-in to their check-out.
        deps = app.bot_data.deps
        assert deps is not None
        async with deps.uow() as uow:
            ids = {}
            for person in volunteers:
                user = await uow.users.by_telegram_id(person.id)
                assert user is not None
                ids[person.id] = user.id
            signups = {s.user_id: s for s in await uow.session.scalars(select(ActivitySignup))}
            entries = (await uow.session.scalars(select(HoursEntry).order_by(HoursEntry.id))).all()
            activity = await uow.activities.get(signups[ids[typed.id]].activity_id)
            assert activity is not None and activity.status == "finished" and activity.starts_at == STARTS_AT
            came = [signups[ids[p.id]] for p in (typed, scanning, by_hand)]
            assert [(e.user_id, e.source, e.activity_id, e.team_id, e.served_at, e.ended_at, e.minutes)
                    for e in entries] == [
                (s.user_id, "activity", activity.id, activity.team_id, s.checked_in_at, s.checked_out_at,
                 served_minutes(s.checked_in_at, s.checked_out_at, activity.starts_at, activity.ends_at))
                for s in came if s.checked_in_at and s.checked_out_at]
            typed_minutes, scanned_minutes, by_hand_minutes = (e.minutes for e in entries)  # the bot's clock flows
            assert 59 <= typed_minutes <= 61  # in 20 minutes before the start, out 40 minutes after it
            assert scanned_minutes == 120  # in before the start, out at the end: capped at the activity's length
            assert 109 <= by_hand_minutes <= 111  # marked 10 minutes after the start, out at the end
            assert sorted(s.attendance for s in signups.values() if s.status == "in") == (
                ["no_show"] * (PLACES - 3) + ["present"] * 3)


async def answer(person: SimUser, question: str, text: str) -> None:
    """Wait for the bot's ``question`` and type ``text``."""
    await wait_text(person, question)
    await person.send(text)
