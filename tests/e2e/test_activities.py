"""Team activities through the real application and the sandbox, in both languages: a team leader
creates one by tapping and typing, its card appears in the team's group, twelve volunteers tap
Sign up for ten places (ten in, two waitlisted, and the card says so), one cancels and the first
waitlisted is promoted and told, and the reminders a day and an hour before arrive on the bot's
injected clock."""

from __future__ import annotations

import datetime as dt

from sandbox import SandboxClient, SandboxServer, SimUser
from tests.e2e.harness import (
    Cast,
    JumpClock,
    approve_directly,
    bot_running,
    make_settings,
    set_up_centre,
    tap_on,
    tr,
    wait_text,
)
from tests.support.clocks import FIXED_START
from tests.support.dbfixtures import in_both_languages

pytestmark = in_both_languages
# The bot starts on Tuesday 10 March 2026 at 9:00 in Shanghai; the activity is on Thursday at 10:00.
START_TEXT, STARTS_AT = "3-12 10:00", dt.datetime(2026, 3, 12, 2, 0, tzinfo=dt.UTC)
PLACES, PEOPLE = 10, 12


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
                     "社区义务维修 Repair day")
        await answer(leader, _("🕒 When does it start? Type the day and time, e.g. 12-5 9:00"), START_TEXT)
        await tap_on(leader, _("⏳ How long does it last?"), _("{hours} h", hours=2))
        await answer(leader, _("📍 Where is it? (e.g. Community centre, room 2)"), "阳光社区活动室 Hall 2")
        await tap_on(leader, _("👥 How many volunteers are needed? Tap a number or type one."), str(PLACES))
        await tap_on(leader, _("🎒 What should volunteers bring? Type it, or tap Nothing."), _("Nothing"))
        await tap_on(leader, _("⏰ When does sign-up close?"), _("3 hours before"))
        await tap_on(leader, _("🛠 Does it need a particular skill?"), _("No, anyone can help"))
        await tap_on(leader, _("Please check the activity, then tap Publish:"), _("📣 Publish"))
        await wait_text(leader, _("📣 Published in {count} team groups. Check-in code: <b>{code}</b>",
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


async def answer(person: SimUser, question: str, text: str) -> None:
    """Wait for the bot's ``question`` and type ``text``."""
    await wait_text(person, question)
    await person.send(text)
