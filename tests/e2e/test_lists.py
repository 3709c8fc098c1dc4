"""Lists and limits through the real application and the sandbox: coordinators' lists asked for in
a team group are answered privately (the group only hears where the list went), ``/orders``
outgrows one message and is paged with ◀ ▶ (edited in place), and a resident who confirms request
after request is stopped kindly with the draft kept."""

from __future__ import annotations

import re
from collections.abc import Awaitable

from bot.i18n import P_
from sandbox import MessageView, SandboxClient, SandboxServer, SimUser
from tests.e2e.harness import (
    BUILDING_Q,
    COMMUNITY_Q,
    CONFIRM_TODAY,
    DESCRIBE,
    DETAIL_Q,
    Cast,
    JumpClock,
    bot_running,
    cast_of,
    contact_question,
    make_settings,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)

LANGUAGE = "en"
_ = tr(LANGUAGE)


async def test_lists_asked_for_in_a_team_group_are_answered_privately(server: SandboxServer, sandbox: SandboxClient,
                                                                      database_url: str) -> None:
    cast = await cast_of(sandbox, LANGUAGE)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, "polling"):
        await set_up_centre(cast, LANGUAGE)
        number = await place_order(cast, LANGUAGE)
        team_chat = cast.team_group.id
        await cast.coordinator.skip_to_now()
        for command, title in [("/orders@sandbox_bot", _("Open requests:")),
                               ("/find@sandbox_bot repair", _("Volunteers for {skill}:", skill=_("Repair"))),
                               ("/team@sandbox_bot", _("Teams:"))]:
            await cast.coordinator.send(command, chat_id=team_chat)
            listing = await wait_text(cast.coordinator, title)
            await wait_text(cast.coordinator, _("{name}, I sent the list to our private chat.",
                                                name=cast.coordinator.first_name), chat_id=team_chat)
            if command.startswith("/orders"):
                assert f"#{number}" in (listing.text or "")
        # The coordinators' own chat keeps /orders (nothing personal in it).
        await cast.coordinator.send("/orders@sandbox_bot", chat_id=cast.coordinators_group.id)
        await wait_text(cast.coordinator, _("Open requests:"), chat_id=cast.coordinators_group.id)

        # A coordinator who never opened a private chat with the bot is asked to.
        nina = await sandbox.create_user("Nina", language_code="en")
        await cast.admin.send(f"/coordinator add {nina.id}")
        await wait_text(cast.admin, f"{nina.id}", timeout=10)
        await cast.team_group.join(nina)
        await nina.send("/orders@sandbox_bot", chat_id=team_chat)
        await wait_text(cast.coordinator, _("{name}, lists are only sent in a private chat. Please open a chat with "
                                            "me, tap Start, then send the command there.", name="Nina"),
                        chat_id=team_chat)

    group = await sandbox.chat(team_chat)
    texts = [m.text or "" for m in group.bot_messages]
    assert not [t for t in texts if _("Open requests:") in t or _("Teams:") in t or "Vera Li" in t], texts


async def open_orders(cast: Cast, application: object, count: int) -> list[int]:
    """``count`` open requests written straight into the database (the request dialog is proven
    elsewhere), each with a long community name, so that the list outgrows one message."""
    deps = application.bot_data.deps  # type: ignore[attr-defined]
    numbers = []
    async with deps.uow() as uow:
        resident = await uow.users.ensure(cast.resident.id, cast.resident.first_name, "en")
        for index in range(count):
            order = await uow.orders.add(
                resident_id=resident.id, status="new", category="repair", urgent=False, description="leak",
                community=f"Sunshine Garden Phase {index:03d} North Gate Residential Compound",
                building="3", address_detail="501", when_text="today", contact_name="Rita",
                contact_phone="+8613800000001")
            numbers.append(order.id)
        await uow.commit()
    return numbers


async def test_orders_are_paged_and_pages_turn_in_place(server: SandboxServer, sandbox: SandboxClient,
                                                         database_url: str) -> None:
    cast = await cast_of(sandbox, LANGUAGE)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, "polling") as application:
        await set_up_centre(cast, LANGUAGE)
        numbers = await open_orders(cast, application, 120)
        await cast.coordinator.skip_to_now()
        await cast.coordinator.send("/orders")
        first = await wait_text(cast.coordinator, _("Open requests:"))
        match = re.search(r"(\d+)\D+(\d+)\s*$", (first.text or "").splitlines()[-1])
        assert match and match.group(1) == "1", first.text
        pages = int(match.group(2))
        assert pages >= 3 and first.button_texts == ["▶"]
        seen: list[int] = []
        for page in range(1, pages + 1):
            view = (await cast.coordinator.chat()).message(first.message_id)
            text = view.text or ""
            assert len(text) <= 4096 and _("Page {page} of {pages}", page=page, pages=pages) in text, text
            seen += [int(n) for n in re.findall(r"^#(\d+)", text, flags=re.MULTILINE)]
            expected = (["◀"] if page > 1 else []) + (["▶"] if page < pages else [])
            assert view.button_texts == expected
            if page < pages:
                answer = await cast.coordinator.tap_and_read_answer("▶", message_id=first.message_id)
                assert answer.answered and not answer.show_alert, answer
                await cast.coordinator.wait_for(lambda chat, p=page + 1: _("Page {page} of {pages}", page=p,
                                                                            pages=pages)
                                                in (chat.message(first.message_id).text or ""))
        assert seen == numbers  # every open request once, in order, on the one message edited in place
        assert len((await cast.coordinator.chat()).bot_messages) == len([
            m for m in (await cast.coordinator.chat()).bot_messages if m.message_id <= first.message_id])
        await cast.coordinator.tap_and_read_answer("◀", message_id=first.message_id)
        await cast.coordinator.wait_for(lambda chat: _("Page {page} of {pages}", page=pages - 1, pages=pages)
                                        in (chat.message(first.message_id).text or ""))


async def then_wait(resident: SimUser, act: Awaitable[object], needle: str) -> MessageView:
    """Do ``act``, then wait for a new bot message (not an older one) holding ``needle``."""
    newest = max([m.message_id for m in (await resident.chat()).bot_messages], default=0)
    await act
    view = await resident.wait_for(lambda chat: any(m.message_id > newest and needle in (m.text or "")
                                                    for m in chat.bot_messages))
    return next(m for m in view.bot_messages if m.message_id > newest and needle in (m.text or ""))


async def reach_summary(resident: SimUser, *, remembered: bool = True) -> None:
    """The request dialog up to its summary (``remembered``: the address and phone of the last
    request are offered, so the summary follows the description)."""
    await then_wait(resident, resident.press(_("🆘 New request")), _("What kind of help do you need?"))
    await then_wait(resident, resident.tap(_("Repair")), _(DESCRIBE))
    if remembered:
        await then_wait(resident, resident.send("leak"), "📞")
        return
    for answer, question in [("leak", _(COMMUNITY_Q)), ("Sunshine", _(BUILDING_Q)), ("3-2", _(DETAIL_Q)),
                             ("502", contact_question(LANGUAGE))]:
        await then_wait(resident, resident.send(answer), question)
    await then_wait(resident, resident.press(_("📱 Share my phone number")), "📞")


async def confirmed(resident: SimUser) -> int:
    """Tap Confirm (for today) on the summary; the request's number."""
    received = await then_wait(resident, resident.tap_and_read_answer(_(CONFIRM_TODAY)), _("Thank you!"))
    return int(re.findall(r"#(\d+)", received.text or "")[0])


async def test_a_resident_confirming_request_after_request_is_stopped_kindly(
        server: SandboxServer, sandbox: SandboxClient, database_url: str) -> None:
    clock = JumpClock()
    cast = await cast_of(sandbox, LANGUAGE)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, "polling", clock=clock):
        await set_up_centre(cast, LANGUAGE)
        await cast.resident.start()
        await wait_text(cast.resident, _("New request"))
        numbers = []
        for placed in range(2):
            await reach_summary(cast.resident, remembered=placed > 0)
            numbers.append(await confirmed(cast.resident))
        await reach_summary(cast.resident)
        refused = await cast.resident.tap_and_read_answer(_(CONFIRM_TODAY))
        assert refused.show_alert and refused.text == _(
            "You have sent several requests in a short time. Please wait {minutes} min, then tap the same "
            "button again. This request is kept.", minutes=1), refused
        clock.advance(61)  # a minute later the kept draft goes through
        numbers.append(await confirmed(cast.resident))
        assert len(set(numbers)) == 3
        # Three open: a fourth is refused (the service tests show a cancel lets it through).
        clock.advance(61)
        await reach_summary(cast.resident)
        refused = await cast.resident.tap_and_read_answer(_(CONFIRM_TODAY))
        assert refused.show_alert and refused.text == _(P_(
            "You already have {count} request in progress. Please wait until it is finished, or cancel it under "
            "My requests, then tap the same button again. This request is kept.",
            "You already have {count} requests in progress. Please wait until one is finished, or cancel one "
            "under My requests, then tap the same button again. This request is kept."), count=3), refused
