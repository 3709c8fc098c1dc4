"""Volunteer registration (/join) and /profile through the sandbox, in Chinese and in English: every
step, the refusals (a typed phone, someone else's contact, a bad registry number, a stale button,
Done with nothing chosen), multi-select toggling, a business, approval required or not, editing
the profile, and a restart in the middle of the dialog."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.adapters.app import BotApplication
from bot.domain.phones import shown_phone
from bot.settings import Settings
from bot.views.common import SHARE_PHONE
from sandbox import MessageView, SandboxClient, SandboxServer, SimUser
from storage.models import Volunteer
from tests.e2e.harness import (
    Cast,
    bot_running,
    cast_of,
    join_team,
    make_settings,
    pick_and_finish,
    set_up_centre,
    tap_on,
    tr,
    wait_text,
)
from tests.support.dbfixtures import in_both_languages

TEAM = "维修队"
OTHER_TEAM = "配送队"
pytestmark = in_both_languages

# The questions, as msgids (translated with tr(language) in the tests).
NAME_Q = "Welcome! What is your full name?"
PHONE_Q = "Please share your phone number with the button below."
COMMUNITY_Q = "Which community (residential compound) are you in?"
COMMUNITY_BUTTONS_Q = "Which community do you live in?"
SKILLS_Q = "Which services can you offer? Tap every one that applies, then Done."
OCCUPATION_Q = "What is your occupation?"
HOBBIES_Q = "What are your hobbies? Tap every one that applies, then Done (or just Done)."
KIND_Q = "Which of these describes you?"
BUSINESS_Q = "What is the name of your business? You will be its contact person."
AVAILABILITY_Q = "When can you usually help? Tap every one that applies, then Done."
REGISTRY_Q = "If you have a national volunteer registry number, type it; otherwise tap Skip."
TEAM_Q = "Which team would you like to join?"
DONE = "Done ➡️"
THANKS = "Thank you! A coordinator will confirm your membership of team {team}."
WELCOME = "Welcome to team {team}! You can now take its requests in the team group."


@dataclass
class Centre:
    cast: Cast
    app: BotApplication
    language: str

    @property
    def _(self) -> Any:
        return tr(self.language)

    async def memberships(self, user: SimUser) -> list[Volunteer]:
        deps = self.app.bot_data.deps
        assert deps is not None
        async with deps.uow() as uow:
            person = await uow.users.by_telegram_id(user.id)
            assert person is not None
            memberships = sorted(await uow.volunteers.of_user(person.id), key=lambda v: v.id)
            uow.session.expunge_all()  # keep the loaded values after the unit of work rolls back
            return memberships

    async def add_team(self, code: str, name: str, categories: list[str]) -> None:
        deps = self.app.bot_data.deps
        assert deps is not None
        async with deps.uow() as uow:
            await uow.teams.add(code, name, categories)
            await uow.commit()


@contextlib.asynccontextmanager
async def centre_running(server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str, *,
                         group_centre: bool = True, **overrides: Any) -> AsyncIterator[Centre]:
    """The bot with a coordinator, team 维修队 and its linked group; no volunteer yet."""
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id if group_centre else None,
                             default_language=language, **overrides)
    async with bot_running(settings, "polling") as app:
        await set_up_centre(Cast(**{**vars(cast), "volunteers": []}), language)
        yield Centre(cast, app, language)


@pytest.fixture
async def centre(language: str, server: SandboxServer, sandbox: SandboxClient,
                 database_url: str) -> AsyncIterator[Centre]:
    async with centre_running(server, sandbox, database_url, language) as running:
        yield running


async def refusal(user: SimUser, action: Any) -> str:
    """What the bot answers (one message) to ``action``, without the ⚠️."""
    await user.skip_to_now()
    await action
    text = (await user.next_message()).text or ""
    assert text.startswith("⚠️ "), text
    return text.removeprefix("⚠️ ")


async def answer(user: SimUser, action: Any) -> MessageView:
    """The bot's next message after ``action``."""
    await user.skip_to_now()
    await action
    return await user.next_message()


async def alert(user: SimUser, label: str, message: MessageView) -> str:
    answer = await user.tap_and_read_answer(label, message_id=message.message_id)
    assert answer.answered and answer.show_alert, answer
    return answer.text or ""


def labels(message: MessageView) -> list[str]:
    return message.button_texts


async def shown(user: SimUser, message: MessageView, label: str) -> MessageView:
    """Wait until ``message`` shows a button ``label`` (after an edit); returns the message."""
    view = await user.wait_for(lambda chat: label in chat.message(message.message_id).button_texts)
    return view.message(message.message_id)


async def test_full_registration_with_every_step_and_refusal(centre: Centre) -> None:
    _, cast = centre._, centre.cast
    vera = cast.volunteers[0]
    await vera.start()
    await vera.send("/join")
    await wait_text(vera, _(NAME_Q))
    assert await refusal(vera, vera.send("x" * 65)) == _("Please type your name (up to 64 characters).")
    await vera.send("Vera Wang")
    await wait_text(vera, _(PHONE_Q))
    # Typed numbers and other people's contacts are refused; only the button's own contact counts.
    assert await refusal(vera, vera.send("13800138000")) == _(
        "Please use the button below to share your phone number; a typed number cannot be accepted.")
    assert await refusal(vera, vera.share_contact(phone_number="+8613912345678")) == _(
        "That is someone else's contact. Please share your own number with the button below.")
    await vera.press(_(SHARE_PHONE))
    await wait_text(vera, _(COMMUNITY_Q))
    await vera.send("阳光社区 Sunshine")

    # Skills: nothing chosen is refused; ticks go on and off in place.
    skills = await wait_text(vera, _(SKILLS_Q))
    assert await alert(vera, _(DONE), skills) == _("Please choose at least one, then tap Done.")
    await vera.tap(_("Repair"), message_id=skills.message_id)
    await shown(vera, skills, "✅ " + _("Repair"))
    await vera.tap(_("Delivery"), message_id=skills.message_id)
    await shown(vera, skills, "✅ " + _("Delivery"))
    await vera.tap("✅ " + _("Repair"), message_id=skills.message_id)
    skills = await shown(vera, skills, _("Repair"))
    assert "✅ " + _("Repair") not in labels(skills) and "✅ " + _("Delivery") in labels(skills)
    await vera.tap(_(DONE), message_id=skills.message_id)

    await tap_on(vera, _(OCCUPATION_Q), _("Teacher"))
    await pick_and_finish(vera, _(HOBBIES_Q), [_("Reading"), _("Music")], _(DONE))
    kind = await wait_text(vera, _(KIND_Q))
    # A button of an answered question, and typing where buttons are asked for, are refused.
    assert await alert(vera, _(DONE), skills) == _(
        "That button belongs to an earlier question. Please answer the last question.")
    assert await refusal(vera, vera.send("party member")) == _("Please answer with the buttons above.")
    await vera.tap(_("Party member"), message_id=kind.message_id)
    await pick_and_finish(vera, _(AVAILABILITY_Q), [_("Weekday daytime"), _("Evenings")], _(DONE))

    await wait_text(vera, _(REGISTRY_Q))
    assert await refusal(vera, vera.send("12-34")) == _(
        "That is not a volunteer registry number (6–32 letters and digits, at least 4 of them digits). Please "
        "type it again, or tap Skip.")
    await vera.send("3101 0520 2400 123")
    await tap_on(vera, _(TEAM_Q), TEAM)
    await wait_text(vera, _(THANKS, team=TEAM))

    [membership] = await centre.memberships(vera)
    assert (membership.name, membership.phone, membership.community) == ("Vera Wang", vera.phone_number,
                                                                          "阳光社区 Sunshine")
    assert (membership.skills, membership.occupation, membership.hobbies) == (["delivery"], "teacher", "reading,music")
    assert (membership.kind, membership.organisation, membership.availability) == ("party_member", "", ["weekday",
                                                                                                         "evening"])
    assert (membership.registry_number, membership.status, membership.source) == ("310105202400123", "pending", "bot")

    # The coordinators' group sees the profile for its decision, without the phone number.
    card = await wait_text(cast.coordinator, _("🙋 {name} asks to join team {team}.", name="Vera Wang", team=TEAM),
                           chat_id=cast.coordinators_group.id)
    text = card.text or ""
    for value in ("阳光社区 Sunshine", _("Delivery"), _("Teacher"), _("Reading"), _("Party member"), _("Evenings"),
                  "310105202400123"):
        assert value in text, (value, text)
    assert vera.phone_number[-8:] not in text
    await cast.coordinator.tap(_("Approve"), chat_id=cast.coordinators_group.id, message_id=card.message_id)
    await wait_text(vera, _(WELCOME, team=TEAM))
    assert [m.status for m in await centre.memberships(vera)] == ["approved"]


async def test_a_business_registers_and_skips_the_registry_number(centre: Centre) -> None:
    _, cast = centre._, centre.cast
    owner = cast.volunteers[1]
    await owner.start()
    await owner.send("/join")
    await wait_text(owner, _(NAME_Q))
    await owner.send("王老板")
    await wait_text(owner, _(PHONE_Q))
    await owner.press(_(SHARE_PHONE))
    await wait_text(owner, _(COMMUNITY_Q))
    await owner.send("幸福社区")
    await pick_and_finish(owner, _(SKILLS_Q), [_("Repair"), _("Housekeeping")], _(DONE))
    occupation = await tap_on(owner, _(OCCUPATION_Q), _("Self-employed"))
    await tap_on(owner, _(HOBBIES_Q), _(DONE))
    await tap_on(owner, _(KIND_Q), _("Business (service alliance)"))
    await wait_text(owner, _(BUSINESS_Q))
    assert await alert(owner, _("Retired"), occupation) == _(
        "That button belongs to an earlier question. Please answer the last question.")
    await owner.send("老王修车铺 Wang's Garage")
    await pick_and_finish(owner, _(AVAILABILITY_Q), [_("Weekends")], _(DONE))
    await tap_on(owner, _(REGISTRY_Q), _("Skip"))
    await tap_on(owner, _(TEAM_Q), TEAM)
    await wait_text(owner, _(THANKS, team=TEAM))
    [membership] = await centre.memberships(owner)
    assert (membership.kind, membership.organisation, membership.name) == ("business", "老王修车铺 Wang's Garage",
                                                                           "王老板")
    assert (membership.skills, membership.hobbies, membership.registry_number) == (["repair", "housekeeping"], "",
                                                                                   None)
    card = await wait_text(cast.coordinator, _("🙋 {name} asks to join team {team}.", name="王老板", team=TEAM),
                           chat_id=cast.coordinators_group.id)
    assert "老王修车铺 Wang's Garage" in (card.text or "")


async def test_without_approval_members_join_at_once_and_choose_community_buttons(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    communities = ["阳光社区", "幸福社区"]
    async with centre_running(server, sandbox, database_url, language, group_centre=False,
                              volunteers={"approval_required": False}, communities=communities) as centre:
        cast = centre.cast
        vera = cast.volunteers[0]
        await vera.start()
        await vera.send("/join")
        await wait_text(vera, _(NAME_Q))
        await vera.send("Vera Li")
        await wait_text(vera, _(PHONE_Q))
        await vera.press(_(SHARE_PHONE))
        question = await wait_text(vera, _(COMMUNITY_BUTTONS_Q))
        assert labels(question) == communities
        assert await refusal(vera, vera.send("别的社区")) == _("Please answer with the buttons above.")
        await vera.tap("幸福社区", message_id=question.message_id)
        await pick_and_finish(vera, _(SKILLS_Q), [_("Repair")], _(DONE))
        await tap_on(vera, _(OCCUPATION_Q), _("Retired"))
        await tap_on(vera, _(HOBBIES_Q), _(DONE))
        await tap_on(vera, _(KIND_Q), _("Resident volunteer"))
        await pick_and_finish(vera, _(AVAILABILITY_Q), [_("Weekends")], _(DONE))
        await tap_on(vera, _(REGISTRY_Q), _("Skip"))
        await tap_on(vera, _(TEAM_Q), TEAM)
        await wait_text(vera, _(WELCOME, team=TEAM))
        [membership] = await centre.memberships(vera)
        assert (membership.status, membership.community) == ("approved", "幸福社区")
        # The coordinator reads the centre privately here: for information, with the phone number.
        fyi = await wait_text(cast.coordinator, _("✅ {name} joined team {team} (no approval needed).",
                                                  name="Vera Li", team=TEAM))
        assert fyi.button_texts == [] and shown_phone(vera.phone_number or "") in (fyi.text or "")


async def test_profile_shows_and_edits_every_membership(centre: Centre) -> None:
    _, cast = centre._, centre.cast
    vera = cast.volunteers[0]
    await vera.start()
    await wait_text(vera, _("New request"))
    await vera.skip_to_now()
    await vera.send("/profile")
    assert (await vera.next_message()).text == _("You are not registered as a volunteer yet. Tap 🙋 Become a "
                                                 "volunteer to register.")

    await join_team(cast, vera, centre.language)
    await centre.add_team("errands", OTHER_TEAM, ["delivery"])
    # Registered already: /join asks only for the team, the profile stays.
    await vera.skip_to_now()
    await vera.send("/join")
    assert (await vera.next_message()).text == _("You are registered already; your profile stays as it is (see "
                                                 "/profile).")
    question = await vera.next_message()
    assert (question.text, labels(question)) == (_(TEAM_Q), [OTHER_TEAM])
    await vera.tap(OTHER_TEAM, message_id=question.message_id)
    await wait_text(vera, _(THANKS, team=OTHER_TEAM))

    await vera.skip_to_now()
    await vera.send("/profile")
    profile = await vera.next_message()
    text = profile.text or ""
    for value in ("Vera Li", shown_phone(vera.phone_number or ""), "阳光社区", _("Repair"), _("Retired"),
                  _("Resident volunteer"), _("Weekends"), _("{team} ({status})", team=TEAM, status=_("approved")),
                  _("{team} ({status})", team=OTHER_TEAM, status=_("waiting for approval"))):
        assert value in text, (value, text)
    assert _("✏️ {field}", field=_("Business name")) not in labels(profile)

    # One field asked again, then the profile again with the new value, on every membership.
    question = await answer(vera, vera.tap(_("✏️ {field}", field=_("Occupation")), message_id=profile.message_id))
    assert question.text == _(OCCUPATION_Q)
    profile = await answer(vera, vera.tap(_("Engineer"), message_id=question.message_id))
    assert _("{label}: {value}", label=_("Occupation"), value=_("Engineer")) in (profile.text or "")
    question = await answer(vera, vera.tap(_("✏️ {field}", field=_("Available")), message_id=profile.message_id))
    assert question.text == _(AVAILABILITY_Q) and "✅ " + _("Weekends") in labels(question)
    await vera.tap(_("Evenings"), message_id=question.message_id)
    await shown(vera, question, "✅ " + _("Evenings"))
    profile = await answer(vera, vera.tap(_(DONE), message_id=question.message_id))
    question = await answer(vera, vera.tap(_("✏️ {field}", field=_("Name")), message_id=profile.message_id))
    assert question.text == _("Type your full name:")
    profile = await answer(vera, vera.send("Vera Li-Wang"))
    heading = _("<b>Your volunteer profile</b>").removeprefix("<b>").removesuffix("</b>")
    assert (profile.text or "").startswith(heading) and "Vera Li-Wang" in (profile.text or "")
    memberships = await centre.memberships(vera)
    assert [(m.name, m.occupation, m.availability, m.status) for m in memberships] == [
        ("Vera Li-Wang", "engineer", ["weekend", "evening"], "approved"),
        ("Vera Li-Wang", "engineer", ["weekend", "evening"], "pending")]


async def test_a_restart_in_the_middle_of_the_dialog_continues_it(server: SandboxServer, sandbox: SandboxClient,
                                                                  database_url: str, language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings: Settings = make_settings(server, database_url, admins=[cast.admin.id],
                                       coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    vera = cast.volunteers[0]
    async with bot_running(settings, "polling"):
        await set_up_centre(Cast(**{**vars(cast), "volunteers": []}), language)
        await vera.start()
        await vera.send("/join")
        await wait_text(vera, _(NAME_Q))
        await vera.send("Vera Li")
        await wait_text(vera, _(PHONE_Q))
        await vera.press(_(SHARE_PHONE))
        await wait_text(vera, _(COMMUNITY_Q))
        await vera.send("阳光社区")
        skills = await wait_text(vera, _(SKILLS_Q))
        await vera.tap(_("Repair"), message_id=skills.message_id)
        await shown(vera, skills, "✅ " + _("Repair"))

    # A new process on the same database: the same message's buttons go on where they were.
    async with bot_running(settings, "polling") as app:
        await vera.tap(_("Delivery"), message_id=skills.message_id)
        skills = await shown(vera, skills, "✅ " + _("Delivery"))
        assert "✅ " + _("Repair") in labels(skills)
        await vera.tap(_(DONE), message_id=skills.message_id)
        await tap_on(vera, _(OCCUPATION_Q), _("Student"))
        await tap_on(vera, _(HOBBIES_Q), _(DONE))
        await tap_on(vera, _(KIND_Q), _("Social organisation"))
        await pick_and_finish(vera, _(AVAILABILITY_Q), [_("Evenings")], _(DONE))
        await tap_on(vera, _(REGISTRY_Q), _("Skip"))
        await tap_on(vera, _(TEAM_Q), TEAM)
        await wait_text(vera, _(THANKS, team=TEAM))
        deps = app.bot_data.deps
        assert deps is not None
        async with deps.uow() as uow:
            person = await uow.users.by_telegram_id(vera.id)
            assert person is not None
            [membership] = await uow.volunteers.of_user(person.id)
            assert (membership.name, membership.community, membership.skills, membership.kind) == (
                "Vera Li", "阳光社区", ["repair", "delivery"], "social_org")
            assert await uow.dialogs.get(person.id) is None

