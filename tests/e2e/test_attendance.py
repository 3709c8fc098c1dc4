"""Check-in on site through the real application and the sandbox: the leader's /checkin gives the
QR photo (decoded as a phone camera would) and the list; A types the code (full-width, lower case),
B opens the QR code's deep link, the leader marks C present by hand, D never comes; A checks out;
at the end the sweep checks B and C out and records D as a no-show, and the hours ledger matches
the check-ins and check-outs entry by entry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.adapters.app import BotApplication
from bot.domain.attendance import served_minutes
from sandbox import SandboxClient, SandboxServer, SimUser
from storage.models import ActivitySignup, HoursEntry
from tests.e2e.harness import JumpClock, before, bot_running, download, latest_photo, make_settings, tr, wait_text
from tests.support.activities import add_activity, sign_up
from tests.support.dbfixtures import in_both_languages
from tests.support.qrcodes import decode_qr
from tests.unit.test_attendance_rules import full_width

pytestmark = in_both_languages
TITLE = "Repair day"
MINUTE = 60


async def set_up(app: BotApplication, clock: JumpClock, leader: SimUser, people: list[SimUser]) -> int:
    """Team repair led by ``leader``; an activity starting in 20 minutes (two hours, code K7Q2) with
    a place for each of ``people`` (the activities room makes these with its dialogs)."""
    deps = app.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        team = await uow.teams.add("repair", "维修队", ["repair"])
        chief = await uow.users.ensure(leader.id, leader.first_name)
        member = await uow.volunteers.add(chief.id, team.id, "Lily Li", "+8613800000009")
        assert await uow.volunteers.decide(member.id, True)
        assert await uow.volunteers.set_leader(chief.id, team.id, True)
        activity = await add_activity(uow, team.id, starts_at=clock() + dt.timedelta(minutes=20), title=TITLE,
                                      created_by=chief.id)
        for person in people:
            await sign_up(uow, activity, (await uow.users.ensure(person.id, person.first_name)).id)
        await uow.commit()
        return activity.id


async def test_check_in_by_code_and_qr_by_hand_a_no_show_and_the_ledger(
        language: str, server: SandboxServer, sandbox: SandboxClient, database_url: str) -> None:
    _ = tr(language)
    code = "zh-hans" if language == "zh" else "en"
    leader, ann, bob, cat, dan = [await sandbox.create_user(name, language_code=code)
                                  for name in ("Lily", "Ann", "Bob", "Cat", "Dan")]
    clock = JumpClock()
    settings = make_settings(server, database_url, admins=[], coordinators_chat_id=None, default_language=language,
                             reminders={"sweep_seconds": 0.1})
    async with bot_running(settings, "polling", clock=clock) as app:
        for person in (leader, ann, bob, cat, dan):
            await person.start()
            await wait_text(person, _("New request"))
        activity = await set_up(app, clock, leader, [ann, bob, cat, dan])

        # The leader opens the check-in: the QR code (a deep link with the code) and the list.
        await leader.send("/checkin")
        photo = await latest_photo(leader)
        link = f"https://t.me/{app.bot.username}?start=act_K7Q2"
        scanned = decode_qr(await download(server, photo))
        assert scanned == link
        assert "K7Q2" in (photo.text or "") and link in (photo.text or "")
        await wait_text(leader, before(_("👥 <b>{title}</b>: who has come", title=TITLE)))

        # Ann types the code as her phone's Chinese keyboard gives it: full-width, lower case.
        checked_in = _("Welcome to <b>{title}</b>! You are checked in at {time}. Thank you for coming. When you "
                       "leave, tap Check out (or send the code again).", title=TITLE, time="\x00")
        await ann.send(full_width("k7q2"))
        ann_in = await wait_text(ann, before(checked_in))
        # Bob scans the QR code: the link Telegram opens is /start with its payload.
        await bob.start(scanned.split("start=")[1])
        await wait_text(bob, before(checked_in))

        # Half an hour later (ten minutes after the start) the leader marks Cat present by hand.
        clock.advance(30 * MINUTE)
        await leader.tap(_("✅ {name} is here", name="Cat"))
        await wait_text(cat, before(_("The team leader marked you present at <b>{title}</b> ({time}). Thank you for "
                                      "coming! When you leave, tap Check out.", title=TITLE, time="\x00")))
        await wait_text(leader, before(_("✅ {name}, here since {time}", name="Cat", time="\x00")))

        # Another half hour: Ann leaves with her button.
        clock.advance(30 * MINUTE)
        await ann.tap(_("👋 Check out"), message_id=ann_in.message_id)
        await wait_text(ann, before(_("You are checked out of <b>{title}</b> at {time}. {hours} h of service "
                                      "recorded. Thank you, see you next time!", title=TITLE, time="\x00",
                                      hours="\x00")))

        # Past the end: the sweep checks Bob and Cat out at the end, Dan did not come.
        clock.advance(90 * MINUTE)
        ended = before(_("<b>{title}</b> has ended: you were checked out at {time}. {hours} h of service recorded. "
                         "Thank you!", title=TITLE, time="\x00", hours="\x00"))
        await wait_text(bob, ended)
        await wait_text(cat, ended)
        summary = await wait_text(leader, before(_("🏁 <b>{title}</b> is finished. Came: {present}. Did not come: "
                                                   "{absent}. Hours of service: {hours} h.", title=TITLE, present=3,
                                                   absent=1, hours="\x00")))

        deps = app.bot_data.deps
        assert deps is not None
        async with deps.uow() as uow:  # read inside the unit of work: its rows expire when it ends
            activity_row = await uow.activities.get(activity)
            assert activity_row is not None and activity_row.status == "finished"
            signups = {s.user_id: s for s in await uow.session.scalars(select(ActivitySignup))}
            entries = (await uow.session.scalars(select(HoursEntry).order_by(HoursEntry.id))).all()
            ids = {}
            for person in (ann, bob, cat, dan):
                user = await uow.users.by_telegram_id(person.id)
                assert user is not None
                ids[person.first_name] = user.id
            start, end = activity_row.starts_at, activity_row.ends_at
            assert signups[ids["Dan"]].attendance == "no_show" and signups[ids["Dan"]].checked_in_at is None
            assert signups[ids["Cat"]].marked_by is not None and signups[ids["Ann"]].marked_by is None
            # One entry each for Ann (her own check-out), then Bob and Cat (the end), exactly their times.
            expected = []
            for name in ("Ann", "Bob", "Cat"):
                signup = signups[ids[name]]
                assert signup.attendance == "present" and signup.checked_in_at and signup.checked_out_at
                expected.append((ids[name], "activity", activity, activity_row.team_id, signup.checked_in_at,
                                 signup.checked_out_at,
                                 served_minutes(signup.checked_in_at, signup.checked_out_at, start, end)))
            assert [(e.user_id, e.source, e.activity_id, e.team_id, e.served_at, e.ended_at, e.minutes)
                    for e in entries] == expected
            ann_minutes, bob_minutes, cat_minutes = (e.minutes for e in entries)
            assert 59 <= ann_minutes <= 61  # from 20 minutes before the start to 40 minutes after it
            assert bob_minutes == 120  # checked in before the start, out at the end: capped at the length
            assert 109 <= cat_minutes <= 111 and entries[1].ended_at == entries[2].ended_at == end
        total = round((ann_minutes + bob_minutes + cat_minutes) / 60, 2)
        assert f"{total:g}" in (summary.text or "")
