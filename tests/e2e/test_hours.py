"""Service hours end to end, through the sandbox: the request's hours counted from Accept to Done
(the bot's clock skipped 45 minutes), the volunteer's figure recorded beside them, "my hours" by
button, the certificate PDF and the coordinator's registry export arriving as documents, made by
the outbox when the messages go out; honour hours added by short answers and shown apart."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.i18n import P_
from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import accepted_order, centre_running, download, latest_document, tr, wait_text


@pytest.mark.parametrize("language", ["zh"])
async def test_hours_from_accept_to_done_my_hours_certificate_and_export(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    async with centre_running(server, sandbox, database_url, language) as (cast, application):
        number, vera, details = await accepted_order(cast, language)
        application.bot_data.deps.clock.advance(45 * 60)  # she was there three quarters of an hour
        await vera.tap(_("✔️ Done"), message_id=details.message_id)
        await wait_text(vera, _("Thank you! How many hours did request #{number} take? Tap or type a number.",
                                number=number))
        await vera.tap("1")
        await wait_text(vera, _("Recorded {hours} h for request #{number}. Thank you!", hours=1.0, number=number))

        await vera.send(_("⏱ My service hours"))
        summary = await wait_text(vera, _("⏱ Your service hours"))
        assert _("This month: {hours} h (requests {orders} h, activities {activities} h)",
                 hours="0.75", orders="0.75", activities="0") in (summary.text or "")
        await vera.tap(_("This year"), message_id=summary.message_id)
        certificate = await latest_document(vera)
        flat = "".join("".join(page.extract_text() for page in PdfReader(
            io.BytesIO(await download(server, certificate, "document"))).pages).split())
        assert "志愿服务记录证明" in flat and "服务时长合计：0.75小时" in flat and f"求助#{number}维修" in flat

        await cast.coordinator.send("/hoursexport")
        choice = await wait_text(cast.coordinator, _("Export the service records of which month for the national "
                                                     "volunteer registry?"))
        await cast.coordinator.tap(_("This month"), message_id=choice.message_id)
        export = await latest_document(cast.coordinator)
        sheet = load_workbook(io.BytesIO(await download(server, export, "document")), read_only=True)["服务记录"]
        rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
        assert rows[0] == ("姓名", "志愿者编号", "服务项目", "服务日期", "服务时长(小时)")
        assert [(row[2], row[4]) for row in rows[1:]] == [(f"求助 #{number} 维修", 0.75)]

        # Honour hours by short answers: More → 🏅, the registry number typed, 4 h by button, the reason typed.
        async with application.bot_data.deps.uow() as uow:
            user = await uow.users.by_telegram_id(vera.id)
            assert user is not None
            for membership in await uow.volunteers.of_user(user.id):
                membership.registry_number = "ZJ3301"
            await uow.commit()
        await cast.coordinator.skip_to_now()
        await cast.coordinator.press(_("⋯ More"))
        more = await cast.coordinator.next_message()
        await cast.coordinator.tap(_("🏅 Honour hours and corrections"), message_id=more.message_id)
        await wait_text(cast.coordinator, _("To add honour hours now, type the volunteer's registry number."))
        await cast.coordinator.send("ZJ3301")
        asked = await wait_text(cast.coordinator, _("How many honour hours for {name}? Tap a number, or type /honour "
                                                    "for another amount.", name="Vera"))
        await cast.coordinator.tap("4", message_id=asked.message_id)
        await wait_text(cast.coordinator, _("Why? Type the reason in a few words (e.g. flood relief)."))
        await cast.coordinator.send("防汛值守")
        await wait_text(vera, _(P_("The centre thanks you with {hours} honour hour: {reason}",
                                   "The centre thanks you with {hours} honour hours: {reason}", "hours"), hours="4",
                                reason="防汛值守"))
        await vera.send(_("⏱ My service hours"))
        await wait_text(vera, _("Honour hours from the centre (counted apart): {hours} h", hours="4"))
