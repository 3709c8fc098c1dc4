"""Reminders through the real application: APScheduler's sweep job on the bot's (fake) clock, the
escalation ladder in the team's group, the claim lease answered with "Still mine", and the rating
chase — in both languages."""

from __future__ import annotations

from bot.domain.phones import shown_phone
from bot.i18n import P_
from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import (
    JumpClock,
    bot_running,
    cast_of,
    make_settings,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)
from tests.support.dbfixtures import in_both_languages

pytestmark = in_both_languages
TEAM = "维修队"


async def test_ladder_lease_and_rating_chase_on_the_bots_clock(
        language: str, server: SandboxServer, sandbox: SandboxClient, database_url: str) -> None:
    _ = tr(language)
    clock = JumpClock()
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language,
                             reminders={"sweep_seconds": 0.1})
    async with bot_running(settings, "polling", clock=clock) as app:
        # APScheduler holds one job, the sweep, with nothing personal in it: the schedule is rows.
        assert app.job_queue is not None
        assert [(job.name, job.data) for job in app.job_queue.jobs()] == [("schedule-sweep", None)]
        await set_up_centre(cast, language)
        number = await place_order(cast, language)
        new_order = await wait_text(cast.coordinator, f"#{number}", chat_id=cast.coordinators_group.id)
        await cast.coordinator.tap(_("➡️ {team}", team=TEAM), chat_id=cast.coordinators_group.id,
                                   message_id=new_order.message_id)
        await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)

        # 30 minutes on the bot's clock: the card is bumped in the group and shows the step.
        clock.advance(30 * 60)
        bump = _("⏫ Request #{number} is still waiting for a volunteer. Who can take it?", number=number)
        await wait_text(cast.volunteers[0], bump, chat_id=cast.team_group.id)
        await wait_text(cast.volunteers[0], _("Status: waiting for a volunteer · ⏫ reminder {step}/3", step=1),
                        chat_id=cast.team_group.id)

        # Taken, then not confirmed for two hours: the volunteer is asked and keeps it.
        vera = cast.volunteers[0]
        await vera.tap(_("✋ Accept"), chat_id=cast.team_group.id)
        await wait_text(vera, shown_phone(cast.resident.phone_number or ""))  # the details, privately
        clock.advance(120 * 60)
        question = await wait_text(vera, _(P_("You took request #{number} a while ago. Are you still on it? "
                                              "Without an answer in {minutes} minute it goes back to the team's group.",
                                              "You took request #{number} a while ago. Are you still on it? "
                                              "Without an answer in {minutes} minutes it goes back to the team's "
                                              "group.", "minutes"),
                                           number=number, minutes=30))
        await vera.tap(_("⏳ Still mine"), message_id=question.message_id)
        await wait_text(vera, _("Thank you! Request #{number} stays yours.", number=number))
        clock.advance(31 * 60)  # past the answer window: nothing is released
        await vera.tap(_("✔️ Done"))
        await wait_text(cast.resident, _("{volunteer} has finished request #{number}. How did it go?",
                                         volunteer=vera.first_name, number=number))

        # A day without a rating: one reminder.
        clock.advance(24 * 3600)
        await wait_text(cast.resident, _("Reminder: please rate request #{number} — your answer helps the centre.",
                                         number=number))
