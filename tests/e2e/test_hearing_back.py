"""Volunteers hear back, end to end: the resident answers in words (满意 … 问题没解决), the volunteer
is told the verdict and the comment (phones masked), and hours entered after the request was
reopened are still recorded."""

from __future__ import annotations

import pytest

from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import accepted_order, centre_running, tr, wait_text

PHONE = "13912345678"


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_volunteer_hears_the_verdict_and_keeps_the_hours(server: SandboxServer, sandbox: SandboxClient,
                                                                    database_url: str, language: str) -> None:
    _ = tr(language)
    async with centre_running(server, sandbox, database_url, language) as (cast, _application):
        number, vera, details = await accepted_order(cast, language)
        assert "+86" not in (details.text or "")
        await vera.tap(_("✔️ Done"), message_id=details.message_id)
        await wait_text(vera, _("Thank you! How many hours did request #{number} take? Tap or type a number.",
                                number=number))

        # The resident answers in words before Vera gives her hours: the request is reopened.
        rating = await wait_text(cast.resident, _("{volunteer} has finished request #{number}. How did it go?",
                                                  volunteer="Vera", number=number))
        assert rating.button_texts == [_("😊 Satisfied"), _("🙂 Mostly satisfied"), _("😞 Not satisfied"),
                                       _("❌ Problem not solved")]
        await cast.resident.tap(_("❌ Problem not solved"), message_id=rating.message_id)
        await wait_text(vera, _("The resident rated request #{number}: {verdict}. Thank you for your help!",
                                number=number, verdict=_("❌ Problem not solved")))
        await wait_text(cast.coordinator, _("♻️ Request #{number} reopened", number=number),
                        chat_id=cast.coordinators_group.id)

        # Her hours still count for the round she served.
        await vera.tap("2")
        await wait_text(vera, _("Recorded {hours} h for request #{number}. Thank you!", hours=2.0, number=number))

        # The comment reaches her too, without the phone number in it.
        await wait_text(cast.resident, _("Thank you! Would you like to add a comment? Type it, or tap Skip."))
        await cast.resident.send(f"还在漏水 still leaking, call {PHONE}")
        await wait_text(cast.resident, _("Thank you for your feedback!"))
        told = await wait_text(vera, _("The resident's comment on request #{number}: {comment}", number=number,
                                       comment="还在漏水 still leaking, call "))
        assert PHONE not in (told.text or "")
