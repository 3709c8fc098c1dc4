"""The loop's rules, through the sandbox with people tapping buttons, checked in the database:

* a forged button (a number beyond our ids, parts added or missing) and a command naming a huge id
  get a translated answer, and change nothing;
* nobody takes their own request;
* a rating tapped while a new request is being written is applied to its own order and the draft
  stays: the next answer goes to the draft, not to the centre as a comment;
* dispatching to the team that already has the order is refused (even two taps at once post one
  card), and the centre's card keeps only the buttons that can still work.
"""

from __future__ import annotations

from collections import Counter

from bot.adapters.app import BotApplication
from bot.views.common import MENU_NEW_REQUEST
from bot.views.lists import BUILDING_USAGE, TEAM_USAGE
from sandbox import MessageView, SandboxClient, SandboxServer, SimUser
from tests.e2e.harness import (
    BUILDING_Q,
    COMMUNITY_Q,
    DESCRIBE,
    DETAIL_Q,
    Cast,
    approve_directly,
    bot_running,
    cast_of,
    make_settings,
    next_of,
    place_order,
    reply_to,
    set_up_centre,
    tr,
    wait_text,
)
from tests.support.dbfixtures import in_both_languages

FORGED = ["way:9223372036854775808", "done:999999999999999999999999", "rate:2147483648:1", "acc:2147483648",
          "rel:-1", "keep:0", "approve:99999999999999999999", "rate:1:9", "ok:1", "way"]


def forge(server: SandboxServer, message: MessageView, label: str, data: str) -> None:
    """A tampered client: the button ``label`` of ``message`` now sends ``data`` when tapped."""
    stored = server.world.chat(message.chat_id).messages[message.message_id]
    for row in stored.inline_keyboard:
        for button in row:
            if button.get("text") == label:
                button["callback_data"] = data
                return
    raise AssertionError(f"no button {label!r}")


async def order_row(application: BotApplication, number: int) -> dict[str, object]:
    deps = application.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        order = await uow.orders.get(number)
        assert order is not None
        events = Counter(e.event for e in await uow.orders.events(number))
        return {"status": order.status, "team_id": order.team_id, "volunteer_id": order.volunteer_id,
                "card": order.card_outbox_id, "events": events}


def texts(messages: list[MessageView], needle: str) -> int:
    return sum(needle in (m.text or "") for m in messages)


async def centre_with_team(application: BotApplication, cast: Cast, language: str,
                           members: list[SimUser]) -> None:
    """Admin, coordinator, team ``repair`` (维修队) with its group; ``members`` approved in it."""
    await set_up_centre(Cast(**{**vars(cast), "volunteers": []}), language)
    await approve_directly(application, cast, language, members)


async def dispatch_by_button(cast: Cast, language: str, number: int) -> MessageView:
    """The coordinator sends the order to 维修队; returns the order's card in the team's group."""
    _ = tr(language)
    await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number), chat_id=cast.coordinators_group.id)
    answer = await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"),
                                                        chat_id=cast.coordinators_group.id)
    assert answer.text == _("Sent to {team}.", team="维修队"), answer
    return await wait_text(cast.coordinator, f"#{number}", chat_id=cast.team_group.id)


@in_both_languages
async def test_forged_buttons_and_huge_ids_are_answered(server: SandboxServer, sandbox: SandboxClient,
                                                        database_url: str, language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None,
                             default_language=language)
    async with bot_running(settings, "polling") as application:
        number = await place_order(cast, language)
        resident = cast.resident
        await resident.send("/my")
        mine = await wait_text(resident, _("Your requests:"))
        cancel = _("Cancel #{number}", number=number)
        out_of_date = _("This button is out of date.")
        for data in [*FORGED, f"cancel:{number}:5", f"cancel:0{number}", f"cancel:{number}.0"]:
            forge(server, mine, cancel, data)
            answer = await resident.tap_and_read_answer(cancel, message_id=mine.message_id)
            assert (answer.answered, answer.show_alert, answer.text) == (True, True, out_of_date), (data, answer)
        assert (await order_row(application, number))["status"] == "new"  # "cancel:N:5" did not cancel it


@in_both_languages
async def test_commands_naming_huge_ids_get_their_usage(server: SandboxServer, sandbox: SandboxClient,
                                                        database_url: str, language: str) -> None:
    """Ids beyond any we store get the command's usage line, not a traceback and silence."""
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None,
                             default_language=language)
    async with bot_running(settings, "polling"):
        admin = cast.admin
        await admin.start()
        await wait_text(admin, "Admin")  # the greeting
        for command, usage in [
            ("/dispatch 99999999999999999999 repair", _("Usage: /dispatch NUMBER TEAM_CODE")),
            ("/dispatch #2147483648 repair", _("Usage: /dispatch NUMBER TEAM_CODE")),
            ("/coordinator add 99999999999999999999", _("Usage: /coordinator add|remove USER_ID (or reply to their "
                                                         "message)")),
            ("/coordinator add ²", _("Usage: /coordinator add|remove USER_ID (or reply to their message)")),
            ("/team member repair 99999999999999999999", _(TEAM_USAGE)),
            ("/building leader dh_3 99999999999999999999", _(BUILDING_USAGE)),
        ]:
            await admin.skip_to_now()
            await admin.send(command)
            reply = await admin.next_message()
            assert reply.text == "⚠️ " + usage, (command, reply.text)


@in_both_languages
async def test_nobody_takes_their_own_request(server: SandboxServer, sandbox: SandboxClient, database_url: str,
                                              language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    async with bot_running(settings, "polling") as application:
        resident, vera = cast.resident, cast.volunteers[0]
        await cast.team_group.join(resident)  # Rita volunteers in the repair team too
        await centre_with_team(application, cast, language, [resident, vera])
        number = await place_order(cast, language)
        card = await dispatch_by_button(cast, language, number)

        refused = await resident.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id,
                                                     message_id=card.message_id)
        assert refused.show_alert and refused.text == _("This is your own request: another volunteer will take it.")
        row = await order_row(application, number)
        assert (row["status"], row["volunteer_id"]) == ("dispatched", None)
        assert (await cast.team_group.view()).message(card.message_id).button_texts == [_("✋ Accept")]

        won = await vera.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
        assert won.text == _("You took request #{number}; the details are in our private chat.", number=number)
        assert (await order_row(application, number))["status"] == "accepted"


@in_both_languages
async def test_a_rating_tapped_during_a_new_request_keeps_the_draft(server: SandboxServer, sandbox: SandboxClient,
                                                                    database_url: str, language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    async with bot_running(settings, "polling") as application:
        resident, vera = cast.resident, cast.volunteers[0]
        await centre_with_team(application, cast, language, [vera])
        number = await place_order(cast, language)
        card = await dispatch_by_button(cast, language, number)
        await vera.tap(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
        details = await wait_text(vera, "138 0000 0001")
        await vera.tap(_("✔️ Done"), message_id=details.message_id)
        rating = await wait_text(resident, _("{volunteer} has finished request #{number}. How did it go?",
                                             volunteer="Vera", number=number))

        # Rita starts a new request for another address and is asked for her room when she taps one
        # star on the old one.
        await resident.skip_to_now()
        await resident.press(_(MENU_NEW_REQUEST))
        await resident.tap(_("Repair"), message_id=(await next_of(resident, _("What kind of help do you need?")))
                           .message_id)
        await next_of(resident, _(DESCRIBE))
        await resident.send("灯不亮了 the light is broken")
        remembered = await next_of(resident, "灯不亮了")  # the summary, with the address of last time
        await resident.tap(_("📍 Another address"), message_id=remembered.message_id)
        await wait_text(resident, _(COMMUNITY_Q))
        await resident.send("阳光小区")
        await wait_text(resident, _(BUILDING_Q))
        await resident.send("3栋2单元")
        await wait_text(resident, _(DETAIL_Q))
        answer = await resident.tap_and_read_answer(_("😞 Not satisfied"), message_id=rating.message_id)
        assert answer.answered and not answer.show_alert, answer
        await wait_text(resident, _("Thank you for your rating! Please go on where you left off."))
        asked = await reply_to(resident, "502室 13812345678")
        assert _("Please check your request:") in (asked.text or ""), asked.text  # the phone is remembered

        deps = application.bot_data.deps
        assert deps is not None
        async with deps.uow() as uow:
            rita = await uow.users.by_telegram_id(resident.id)
            assert rita is not None
            rated = await uow.ratings.get(number, 1)
            assert rated is not None and (rated.stars, rated.comment) == (2, None)  # 😞 Not satisfied
            dialog = await uow.dialogs.get(rita.id)
            assert dialog is not None and (dialog.flow, dialog.step) == ("request", "summary")
            assert dialog.data["detail"] == "502室 13812345678" and dialog.data["building"] == "3栋2单元"
        assert (await order_row(application, number))["status"] == "new"  # one star reopened it
        centre = (await cast.coordinators_group.view()).bot_messages
        assert texts(centre, _("♻️ Request #{number} reopened", number=number)) == 1
        assert texts(centre, "13812345678") == 0


@in_both_languages
async def test_dispatch_to_the_team_that_has_it_is_refused(server: SandboxServer, sandbox: SandboxClient,
                                                           database_url: str, language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    async with bot_running(settings, "polling") as application:
        coordinator = cast.coordinator
        await centre_with_team(application, cast, language, [cast.volunteers[0]])
        await coordinator.send("/team add clean 保洁队 repair housekeeping")
        await wait_text(coordinator, "/link clean")
        number = await place_order(cast, language)
        new = await wait_text(coordinator, _("🆕 New request #{number}", number=number),
                              chat_id=cast.coordinators_group.id)
        assert new.button_texts == [_("➡️ {team}", team="维修队"), _("➡️ {team}", team="保洁队"), _("Reject"),
                                    _("📜 History")]

        # Two taps on the same button at the same moment: one dispatch, one kind refusal.
        to_repair = _("➡️ {team}", team="维修队")
        taps = await (sandbox.batch().tap(coordinator, to_repair, chat_id=cast.coordinators_group.id,
                                          message_id=new.message_id)
                      .tap(coordinator, to_repair, chat_id=cast.coordinators_group.id, message_id=new.message_id)
                      .run())
        answers = [await sandbox.callback_answer(t["callback_query_id"]) for t in taps]
        already = _("Request #{number} is already with team {team}; nothing was changed.", number=number,
                    team="维修队")
        assert sorted((a.text, a.show_alert) for a in answers) == sorted(
            [(_("Sent to {team}.", team="维修队"), False), (already, True)])

        # The command again: refused the same way.
        await coordinator.skip_to_now()
        await coordinator.send(f"/dispatch {number} repair")
        assert (await coordinator.next_message()).text == "⚠️ " + already

        # The centre's card now says where it went and offers only moving it elsewhere, or Reject.
        sent = _("➡️ Sent to team {team}.", team="维修队")
        edited = await cast.coordinators_group.wait_for(lambda chat: sent in (chat.message(new.message_id).text or ""))
        assert edited.message(new.message_id).button_texts == [_("➡️ {team}", team="保洁队"), _("Reject"),
                                                               _("📜 History")]

        row = await order_row(application, number)
        events = row["events"]
        assert isinstance(events, Counter)
        assert (row["status"], events["dispatched"]) == ("dispatched", 1)
        group = (await cast.team_group.view()).bot_messages
        assert texts(group, f"#{number}") == 1
        assert texts(group, _("Status: moved to another team")) == 0
        passed = _("Request #{number} was passed to the {team} team. A volunteer will take it soon.", number=number,
                   team="维修队")
        assert texts((await cast.resident.chat()).bot_messages, passed) == 1

        # Taken: the centre's card has no buttons left; released: moving it elsewhere is possible again.
        vera = cast.volunteers[0]
        card = next(m for m in group if f"#{number}" in (m.text or ""))
        await vera.tap(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
        taken = _("Status: ✅ taken by {volunteer}", volunteer="Vera")
        edited = await cast.coordinators_group.wait_for(lambda chat: taken in (chat.message(new.message_id).text or ""))
        assert edited.message(new.message_id).button_texts == []
        details = await wait_text(vera, "138 0000 0001")
        await vera.tap(_("↩️ Release"), message_id=details.message_id)
        edited = await cast.coordinators_group.wait_for(
            lambda chat: chat.message(new.message_id).button_texts == [_("➡️ {team}", team="保洁队"), _("Reject"),
                                                                       _("📜 History")])
        assert taken not in (edited.message(new.message_id).text or "")
