"""Teams, team leaders, join links with QR codes, per-role command menus, building leaders
ordering for a neighbour, members leaving a team's group, and the roster sent to the bot —
through the sandbox, in both languages."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook

from bot.adapters.app import BotApplication
from bot.domain.phones import shown_phone
from bot.i18n import P_
from sandbox import MessageView, SandboxClient, SandboxServer, SimUser
from tests.e2e.harness import (
    CONFIRM_TODAY,
    DESCRIBE,
    DETAIL_Q,
    Cast,
    centre_running,
    download,
    place_order,
    register_volunteer,
    tr,
    wait_text,
)
from tests.support.dbfixtures import in_both_languages
from tests.support.qrcodes import decode_qr

TEAM = "维修队"


@dataclass
class Centre:
    cast: Cast
    app: BotApplication
    server: SandboxServer
    language: str

    @property
    def bot_username(self) -> str:
        username = self.app.bot.username
        assert username
        return username

    async def download(self, message: MessageView, kind: str) -> bytes:
        return await download(self.server, message, kind)


pytestmark = in_both_languages


@pytest.fixture
async def centre(language: str, server: SandboxServer, sandbox: SandboxClient,
                 database_url: str) -> AsyncIterator[Centre]:
    async with centre_running(server, sandbox, database_url, language) as (cast, app):
        yield Centre(cast, app, server, language)


async def latest(user: SimUser, kind: str, *, chat_id: int | None = None) -> MessageView:
    view = await user.wait_for(lambda chat: any(m.kind == kind for m in chat.bot_messages), chat_id=chat_id)
    return [m for m in view.bot_messages if m.kind == kind][-1]


async def commands(sandbox: SandboxClient, user: SimUser) -> set[str]:
    return {c["command"] for c in await sandbox.commands(user)}


async def test_team_management_leaders_links_and_menus(centre: Centre, sandbox: SandboxClient) -> None:
    cast, _ = centre.cast, tr(centre.language)
    coordinator, leader = cast.coordinator, cast.volunteers[0]
    assert "team" not in await commands(sandbox, leader)
    assert {"orders", "dispatch", "find", "team", "building", "roster"} <= await commands(sandbox, coordinator)
    assert "coordinator" in await commands(sandbox, cast.admin)

    await coordinator.send("/team rename repair 维修服务队")
    await wait_text(coordinator, _("Team {old} is now called {team}.", old=TEAM, team="维修服务队"))
    await coordinator.send("/team categories repair repair delivery")
    await wait_text(coordinator, _("Team {team} now takes: {categories}.", team="维修服务队",
                                   categories="repair, delivery"))
    await coordinator.send("/team sub repair repair 水电组")
    await wait_text(coordinator, _(P_("Sub-team {name} of team {team}: {count} member with the skill {skill}.",
                                      "Sub-team {name} of team {team}: {count} members with the skill {skill}."),
                                   name="水电组", team="维修服务队", count=2, skill=_("Repair")))

    await coordinator.send(f"/team leader repair {leader.id}")
    await wait_text(leader, _("You are now a leader of team {team}. Send /team to see its members and its join link.",
                              team="维修服务队"))
    await leader.wait_for(lambda chat: True)
    assert {"team", "profile", "onduty", "request"} <= await commands(sandbox, leader)
    assert "coordinator" not in await commands(sandbox, leader)

    # The leader sees the team (names only) and hands out its link; the QR code decodes to it.
    await leader.send("/team")
    card = await wait_text(leader, _("Leaders: {names}", names=leader.first_name))
    assert "水电组" in (card.text or "") and "+86" not in (card.text or "")
    await leader.send("/team link repair")
    photo = await latest(leader, "photo")
    link = f"https://t.me/{centre.bot_username}?start=team_repair"
    assert link in (photo.text or "")
    assert decode_qr(await centre.download(photo, "photo")) == link

    # Someone who is not a coordinator cannot manage teams.
    await leader.send("/team rename repair 我的队")
    await wait_text(leader, _("Only a coordinator can do this."))

    # A member leaving the team's group is flagged to the team leader (the bot is an admin there).
    await cast.team_group.add_bot(coordinator, admin=True)
    await cast.team_group.leave(cast.volunteers[1])
    await wait_text(leader, _("{name}, an approved member of team {team}, has left the team's group and will not see "
                              "its requests there.", name=cast.volunteers[1].first_name, team="维修服务队"))

    # Standing the leader down takes the team menu away again.
    await coordinator.send(f"/team unleader repair {leader.id}")
    await wait_text(leader, _("You no longer lead team {team}. Thank you!", team="维修服务队"))
    await wait_text(coordinator, _("{name} no longer leads team {team}.", name=leader.first_name, team="维修服务队"))
    assert "team" not in await commands(sandbox, leader)

    # The link opens registration with the team chosen: no team question, straight to approval.
    newcomer = await sandbox.create_user("Nina", language_code="en" if centre.language == "en" else "zh-hans")
    await register_volunteer(newcomer, centre.language, team=None, link="team_repair")
    await wait_text(newcomer, _("Thank you! A coordinator will confirm your membership of team {team}.",
                                team="维修服务队"))
    await wait_text(coordinator, _("🙋 {name} asks to join team {team}.", name="Nina Li", team="维修服务队"),
                    chat_id=cast.coordinators_group.id)
    # … or a coordinator puts a registered volunteer into the team directly.
    await coordinator.send(f"/team member repair {newcomer.id}")
    await wait_text(newcomer, _("The centre added you to team {team}. You can now take its requests in the team "
                                "group.", team="维修服务队"))
    assert "profile" in await commands(sandbox, newcomer)

    # An archived team takes no one through its link.
    await coordinator.send("/team archive repair")
    await wait_text(coordinator, _("Team {team} is archived.", team="维修服务队"))
    latecomer = await sandbox.create_user("Lena", language_code="en" if centre.language == "en" else "zh-hans")
    await latecomer.start("team_repair")
    await wait_text(latecomer, _("This link is not valid any more. Tap New request when you need help."))
    await coordinator.send("/team restore repair")
    await wait_text(coordinator, _("Team {team} is active again.", team="维修服务队"))


async def test_building_leader_orders_for_a_neighbour_and_records_the_rating(
        centre: Centre, sandbox: SandboxClient) -> None:
    cast, _ = centre.cast, tr(centre.language)
    coordinator, volunteer = cast.coordinator, cast.volunteers[0]
    leader = await sandbox.create_user("Lou", language_code="en" if centre.language == "en" else "zh-hans")
    await leader.start()
    await coordinator.send("/building add dh_3 东湖社区 3号楼")
    await wait_text(coordinator, "dh_3")
    await coordinator.send(f"/building leader dh_3 {leader.id}")
    await wait_text(leader, _("🏠 Help a neighbour"))  # the news of the appointment names the buttons
    assert {"neighbour", "building"} <= await commands(sandbox, leader)

    # The building's QR code attributes residents who come through it.
    await leader.send("/building")
    photo = await latest(leader, "photo")
    link = f"https://t.me/{centre.bot_username}?start=b_dh_3"
    assert decode_qr(await centre.download(photo, "photo")) == link
    await cast.resident.start("b_dh_3")
    await wait_text(cast.resident, _("Welcome, neighbour of {building} ({community})!", building="3号楼",
                                     community="东湖社区"))

    # The leader orders for a neighbour without Telegram: the building gives the address.
    await leader.send("/neighbour")
    await wait_text(leader, _("What kind of help do you need?"))
    await leader.tap(_("Repair"))
    await wait_text(leader, _(DESCRIBE))
    await leader.send("灯坏了 the light is broken")
    await wait_text(leader, _(DETAIL_Q))
    await leader.send("2单元 501")
    await wait_text(leader, _("What is your neighbour's name?"))
    await leader.send("王奶奶")
    await wait_text(leader, _("Type your neighbour's phone number (the volunteer will call it)."))
    await leader.send("139 0000 0002")
    summary = await wait_text(leader, "王奶奶")
    assert "0002" in (summary.text or "") and "3号楼" in (summary.text or "")
    await leader.tap(_(CONFIRM_TODAY), message_id=summary.message_id)
    received = await wait_text(leader, "#")
    found = re.search(r"#(\d+)", received.text or "")
    assert found is not None
    number = int(found.group(1))

    new_order = await wait_text(coordinator, f"#{number}", chat_id=cast.coordinators_group.id)
    await coordinator.tap(_("➡️ {team}", team=TEAM), chat_id=cast.coordinators_group.id, message_id=new_order.message_id)
    card = await wait_text(volunteer, f"#{number}", chat_id=cast.team_group.id)
    assert "王奶奶" not in (card.text or "") and "13900000002" not in (card.text or "")
    await volunteer.tap(_("✋ Accept"), chat_id=cast.team_group.id)
    details = await wait_text(volunteer, "王奶奶")
    assert "139 0000 0002" in (details.text or "") and "3号楼" in (details.text or "")
    await wait_text(leader, _("Good news: volunteer {volunteer} has taken request #{number} and will contact you.",
                              volunteer=volunteer.first_name, number=number))
    await volunteer.tap(_("✔️ Done"))
    await wait_text(leader, _("{volunteer} has finished request #{number} for {neighbour}. Please ask them how it went "
                              "and record their rating:", volunteer=volunteer.first_name, number=number,
                              neighbour="王奶奶"))
    await leader.tap(_("😊 Satisfied"))
    await wait_text(leader, _("Thank you! Would you like to add a comment? Type it, or tap Skip."))


ROSTER_SUMMARY = P_("Roster {file}: {rows} row — {created} new, {updated} updated, {unchanged} unchanged, {failed} "
                    "with errors.", "Roster {file}: {rows} rows — {created} new, {updated} updated, {unchanged} "
                    "unchanged, {failed} with errors.", "rows")


async def test_roster_file_sent_to_the_bot_and_exported(centre: Centre, sandbox: SandboxClient) -> None:
    cast, _ = centre.cast, tr(centre.language)
    rows = ["姓名,手机号,志愿者编号,社区,服务队,技能", "张三,13800138000,ZJ33010612345,东湖社区,repair,repair",
            "李四,not-a-phone,,东湖社区,repair,repair", "王五,+86 138 0013 8002,,西湖社区,repair,delivery"]
    data = ("\n".join(rows) + "\n").encode("utf-8-sig")
    await cast.coordinator.skip_to_now()
    await cast.coordinator.send_document(data, file_name="roster.csv", mime_type="text/csv")
    report = await wait_text(cast.coordinator, "roster.csv")
    assert _(ROSTER_SUMMARY, file="roster.csv", rows=3, created=2, updated=0, unchanged=0,
             failed=1) in (report.text or "")
    assert _("Row {row}, {column}:", row=3, column=_("Phone")) in (report.text or "")
    # The same file again changes nothing.
    await cast.coordinator.skip_to_now()
    await cast.coordinator.send_document(data, file_name="roster.csv", mime_type="text/csv")
    view = await cast.coordinator.wait_for(
        lambda chat: sum("roster.csv" in (m.text or "") for m in chat.bot_messages) == 2)
    again = [m for m in view.bot_messages if "roster.csv" in (m.text or "")][-1]
    assert _(ROSTER_SUMMARY, file="roster.csv", rows=3, created=0, updated=0, unchanged=2,
             failed=1) in (again.text or "")

    await cast.coordinator.send("/roster xlsx")
    document = await latest(cast.coordinator, "document")
    sheet = load_workbook(io.BytesIO(await centre.download(document, "document")), read_only=True).active
    assert sheet is not None
    exported = [tuple(str(c or "") for c in row) for row in sheet.iter_rows(values_only=True)]
    assert ("张三", "13800138000", "ZJ33010612345", "东湖社区", "repair", "repair") in exported
    assert ("王五", "13800138002", "", "西湖社区", "repair", "delivery") in exported

    # Anyone else's file is not read, and they are told what the bot can read.
    await cast.resident.start()
    await cast.resident.send_document(data, file_name="roster.csv", mime_type="text/csv")
    await wait_text(cast.resident, _("I can read text messages, voice notes, photos and shared contacts only."))
    await cast.resident.send("/roster")
    await wait_text(cast.resident, _("Only a coordinator can do this."))


async def test_a_business_takes_orders_like_a_volunteer_and_its_completed_orders_count(
        centre: Centre, sandbox: SandboxClient) -> None:
    cast, _ = centre.cast, tr(centre.language)
    shop = await sandbox.create_user("Bao", language_code="en" if centre.language == "en" else "zh-hans")
    await cast.team_group.join(shop)
    await register_volunteer(shop, centre.language, kind="Business (service alliance)", business="老王五金店")
    application = await wait_text(cast.coordinator, _("🙋 {name} asks to join team {team}.", name="Bao Li", team=TEAM),
                                  chat_id=cast.coordinators_group.id)
    assert "老王五金店" in (application.text or "")
    await cast.coordinator.tap(_("Approve"), chat_id=cast.coordinators_group.id, message_id=application.message_id)
    await wait_text(shop, _("Welcome to team {team}! You can now take its requests in the team group.", team=TEAM))
    assert {"profile", "onduty"} <= await commands(sandbox, shop)

    number = await place_order(cast, centre.language)
    new_order = await wait_text(cast.coordinator, f"#{number}", chat_id=cast.coordinators_group.id)
    await cast.coordinator.tap(_("➡️ {team}", team=TEAM), chat_id=cast.coordinators_group.id,
                               message_id=new_order.message_id)
    await wait_text(shop, f"#{number}", chat_id=cast.team_group.id)
    await shop.tap(_("✋ Accept"), chat_id=cast.team_group.id)
    details = await wait_text(shop, shown_phone(cast.resident.phone_number or ""))  # the resident's contact, privately
    await shop.tap(_("✔️ Done"), message_id=details.message_id)
    await wait_text(cast.resident, _("{volunteer} has finished request #{number}. How did it go?",
                                     volunteer=shop.first_name, number=number))
    await cast.resident.tap(_("😊 Satisfied"))
    await wait_text(cast.resident, _("Thank you! Would you like to add a comment? Type it, or tap Skip."))

    await cast.coordinator.send("/businesses")
    listing = await wait_text(cast.coordinator, _("Businesses of the service alliance:"))
    assert _("{business} · {contact} · {team} · {categories} · completed: {count}", business="老王五金店",
             contact="Bao Li", team=TEAM, categories=_("Repair"), count=1) in (listing.text or "")
