"""The closed loop, end to end: order → dispatch → accept → rate, in both languages, polling and webhook."""

from __future__ import annotations

import pytest

from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import (
    bot_running,
    cast_of,
    finish_and_rate,
    make_settings,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
@pytest.mark.parametrize("language", ["zh", "en"])
async def test_whole_loop(server: SandboxServer, sandbox: SandboxClient, database_url: str, mode: str,
                          language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    async with bot_running(settings, mode):
        await set_up_centre(cast, language)
        number = await place_order(cast, language)

        # Dispatch: the coordinators see the order with a button for the team.
        new = await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                              chat_id=cast.coordinators_group.id)
        assert "502" not in (new.text or "") and "+86" not in (new.text or "")
        answer = await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"),
                                                            chat_id=cast.coordinators_group.id)
        assert answer.text == _("Sent to {team}.", team="维修队")
        card = await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
        assert card.button_texts == [_("✋ Accept")]
        assert "阳光小区" in (card.text or "") and "3栋" not in (card.text or "") and "502" not in (card.text or "")
        await wait_text(cast.resident, _("Request #{number} was passed to the {team} team. "
                                         "A volunteer will take it soon.", number=number, team="维修队"))

        # Accept: Vera wins; Victor is told it is taken; a stranger is told how to join.
        vera, victor = cast.volunteers
        won = await vera.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id)
        assert won.text == _("You took request #{number}; the details are in our private chat.", number=number)
        lost = await victor.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id,
                                                message_id=card.message_id)
        assert lost.show_alert and lost.text == _("Sorry, someone else has already taken this request.")
        taken = await cast.team_group.wait_for(
            lambda chat: _("Status: ✅ taken by {volunteer}", volunteer="Vera")
            in (chat.message(card.message_id).text or ""))
        assert taken.message(card.message_id).buttons == []
        details = await wait_text(vera, "138 0000 0001")
        assert details.protect_content and "502" in (details.text or "")
        await wait_text(cast.resident, _("Good news: volunteer {volunteer} has taken request #{number} and will "
                                         "contact you.", volunteer="Vera", number=number))

        # Progress, done and rated.
        await finish_and_rate(cast, language, vera, details, number, verdict=_("😊 Satisfied"))
        await wait_text(cast.resident, _("Thank you! Would you like to add a comment? Type it, or tap Skip."))
        await cast.resident.send("非常好 very good")
        await wait_text(cast.resident, _("Thank you for your feedback!"))
        await cast.team_group.wait_for(
            lambda chat: _("Status: done, rated {verdict}", verdict=_("😊 Satisfied"))
            in (chat.message(card.message_id).text or ""))


async def test_without_a_coordinators_chat_the_admins_get_new_requests(server: SandboxServer, sandbox: SandboxClient,
                                                                         database_url: str) -> None:
    _ = tr("en")
    cast = await cast_of(sandbox, "en")
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None,
                             default_language="en")
    async with bot_running(settings, "polling"):
        await cast.admin.start()
        number = await place_order(cast, "en")
        new = await wait_text(cast.admin, _("🆕 New request #{number}", number=number))
        assert _("Reject") in new.button_texts
