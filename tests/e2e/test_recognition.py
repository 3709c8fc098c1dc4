"""Recognition end to end, through the sandbox: February's served request (written straight into the
tables) makes the volunteer 维修队's 志愿之星 when the monthly item is swept; the coordinators'
group gets the card, nothing is posted before the coordinator taps ✅, then the team's group gets
the announcement and the star a private photo — the certificate image of her month."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services import recognition
from bot.views.recognition import ACTIVITIES, REQUESTS_COMPLETED, SERVICES
from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import bot_running, cast_of, download, latest_photo, make_settings, set_up_centre, tr, wait_text
from tests.support.clocks import FIXED_START, JumpClock

FEBRUARY = dt.datetime(2026, 2, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


@pytest.mark.parametrize("language", ["zh"])
async def test_a_coordinator_approves_the_star_and_the_team_and_the_star_hear_it(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language,
                             reminders={"sweep_seconds": 0.1})
    async with bot_running(settings, "polling", clock=JumpClock()) as application:
        await set_up_centre(cast, language)
        vera = cast.volunteers[0]
        deps = application.bot_data.deps
        async with deps.uow() as uow:  # Vera's February: one request done in 50 minutes, rated 😊
            team = await uow.teams.by_code("repair")
            user = await uow.users.by_telegram_id(vera.id)
            resident = await uow.users.ensure(cast.resident.id, cast.resident.first_name)
            assert team is not None and user is not None
            order = await uow.orders.add(resident_id=resident.id, status="closed", category="repair",
                                         community="东湖社区", when_text="today", contact_name="Rita",
                                         contact_phone="+8613800000001", team_id=team.id, volunteer_id=user.id)
            await uow.orders.record(order.id, None, "dispatched")
            await uow.ledger.add(user.id, "order", 50, FEBRUARY, ended_at=FEBRUARY + dt.timedelta(minutes=50),
                                 team_id=team.id, order_id=order.id, round=1)
            await uow.ratings.add(order.id, 1, resident.id, stars=5, solved=True)
            # This month's run (start-up scheduled April's; March's is due now, as on the 1st).
            assert await uow.schedule.add(recognition.KIND, FIXED_START, key="recognition:2026-03-01")
            await uow.commit()

        month = _("{month}/{year}", month=2, year=2026)
        heading = _("🌟 Volunteer Star of {month}, team {team}: <b>{name}</b>", month=month, team="维修队",
                    name=f"{vera.first_name} Li").replace("<b>", "").replace("</b>", "")
        card = await wait_text(cast.coordinator, heading, chat_id=cast.coordinators_group.id)
        # Nothing is posted before the approval: no announcement in the team's group, no photo for Vera.
        assert not any("🌟" in (m.text or "") for m in (await sandbox.chat(cast.team_group.id)).bot_messages)
        assert not any(m.kind == "photo" for m in (await vera.chat()).bot_messages)

        answer = await cast.coordinator.tap_and_read_answer(_("✅ Approve"), chat_id=cast.coordinators_group.id,
                                                            message_id=card.message_id)
        assert answer.text == _("Approved: posted to the team.")
        announced = _("🌟 <b>{name}</b> is team {team}'s Volunteer Star of {month}: {orders} "
                      "and {activities}. Thank you for your care!", name=f"{vera.first_name} Li",
                      team="维修队", month=month, orders=_(REQUESTS_COMPLETED, count=1),
                      activities=_(ACTIVITIES, count=0)).replace("<b>", "").replace("</b>", "")
        await wait_text(vera, announced, chat_id=cast.team_group.id)
        photo = await latest_photo(vera)
        assert _("🌟 Congratulations, {name}! You are team {team}'s Volunteer Star of {month}: {hours} h, "
                 "{services}. Thank you!", name=f"{vera.first_name} Li", team="维修队", month=month,
                 hours="0.83", services=_(SERVICES, count=1)) == photo.text
        assert (await download(server, photo)).startswith(b"\x89PNG")
        await wait_text(cast.coordinator, _("✅ Approved by {name}", name=cast.coordinator.first_name),
                        chat_id=cast.coordinators_group.id)
        team_chat = await sandbox.chat(cast.team_group.id)
        assert sum(1 for m in team_chat.bot_messages if announced in (m.text or "")) == 1
