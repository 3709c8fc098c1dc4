"""Points through the real application and the sandbox: Vera taps 🎁 Use my points and gets her
balance, a one-time code and its QR code (decoded as a phone camera would); the business scans it
(the deep link), taps an amount and confirms; both get their receipt, and the code never works twice."""

from __future__ import annotations

import datetime as dt

from bot.adapters.app import BotApplication
from bot.i18n import P_
from sandbox import SandboxClient, SandboxServer, SimUser
from storage.ledger import ORDER
from tests.e2e.harness import JumpClock, before, bot_running, download, latest_photo, make_settings, tr, wait_text
from tests.support.qrcodes import decode_qr


async def set_up(app: BotApplication, clock: JumpClock, vera: SimUser, shop: SimUser) -> None:
    """Vera (a volunteer who served 3 hours yesterday: 30 points) and the business 福满楼 (contact Sam)."""
    deps = app.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        team = await uow.teams.add("alliance", "商居服务联盟", [])
        for person, kind in ((vera, "volunteer"), (shop, "business")):
            user = await uow.users.ensure(person.id, person.first_name)
            member = await uow.volunteers.add(user.id, team.id, person.first_name, "+8613800000009", kind=kind,
                                              organisation="福满楼" if kind == "business" else "")
            assert await uow.volunteers.decide(member.id, True)
            if kind == "volunteer":
                await uow.ledger.add(user.id, ORDER, 180, clock() - dt.timedelta(days=1), team_id=team.id)
        await uow.commit()


async def test_a_volunteer_gets_a_code_a_business_scans_it_and_both_get_receipts(
        server: SandboxServer, sandbox: SandboxClient, database_url: str) -> None:
    _ = tr("zh")
    vera, sam = [await sandbox.create_user(name, language_code="zh-hans") for name in ("Vera", "Sam")]
    clock = JumpClock()
    settings = make_settings(server, database_url, admins=[], coordinators_chat_id=None, default_language="zh")
    async with bot_running(settings, "polling", clock=clock) as app:
        for person in (vera, sam):
            await person.start()
            await wait_text(person, _("New request"))
        await set_up(app, clock, vera, sam)

        await vera.send(_("🎁 Use my points"))
        photo = await latest_photo(vera)
        scanned = decode_qr(await download(server, photo))
        assert scanned.startswith(f"https://t.me/{app.bot.username}?start=pay_")
        code = scanned.split("pay_")[1]
        assert f"{code}" in (photo.text or "") and "30" in (photo.text or "")

        await sam.start(scanned.split("start=")[1])  # the business scans the QR code
        await wait_text(sam, before(_("🎁 Points code {code} for {business}: how many points? Tap or type the "
                                      "number.", code=code, business="福满楼")))
        await sam.tap("20")
        confirm = await wait_text(sam, before(_("Take <b>{amount}</b> points with code {code} for {business}?",
                                                amount=20, code=code, business="福满楼")))
        await sam.tap(_("✅ Confirm"), message_id=confirm.message_id)

        told = _("🧾 Receipt #{number}: you used <b>{amount}</b> points at {business} ({time}). Points left: {left}.",
                 number=1, amount=20, business="福满楼", time="\x00", left=10)
        receipt = await wait_text(vera, before(told))
        assert told.split("\x00")[1] in (receipt.text or "")  # what is left: 10
        shop_receipt = await wait_text(sam, before(_(P_("🧾 Receipt #{number}: {amount} point taken for {business} "
                                                        "({time}), from volunteer {name}.",
                                                        "🧾 Receipt #{number}: {amount} points taken for {business} "
                                                        "({time}), from volunteer {name}.", "amount"),
                                                     number=1, amount=20, business="福满楼", time="\x00",
                                                     name="Vera")))
        assert "+86" not in (receipt.text or "") + (shop_receipt.text or "")

        await sam.send(code)  # the same code again: used
        await wait_text(sam, _("This points code was used already. The volunteer can get a new one."))
