"""Registration and profile services without Telegram (sqlite, and postgresql with TEST_DATABASE_URL):
a join link's preselected team, one profile across memberships, registry numbers, refusals of
buttons of another step, profile edits, claiming a roster entry, and the settings behind them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.app import service_config
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import registration
from bot.services.context import ServiceConfig, ServiceContext
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES, ConfigError, load_settings
from storage.models import OutboxMessage, Volunteer
from tests.support.dbfixtures import UowFactory

I18N = I18n()
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=-100)
VERA, OLGA = 5001, 5002
PHONE = "13800138000"
_ = I18N.translator("en")


@contextlib.asynccontextmanager
async def calling(uow_factory: UowFactory, telegram_id: int,
                  config: ServiceConfig = CONFIG) -> AsyncIterator[ServiceContext]:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
        yield service_context(uow, user, i18n=I18N, config=config)


async def act(uow_factory: UowFactory, telegram_id: int, service: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """One update: ``service(ctx, *args)`` in its own unit of work (it commits itself)."""
    async with calling(uow_factory, telegram_id) as ctx:
        await service(ctx, *args)


async def typed(uow_factory: UowFactory, telegram_id: int, inp: Input) -> None:
    async with calling(uow_factory, telegram_id) as ctx:
        dialog = await ctx.uow.dialogs.get(ctx.user.id)
        assert dialog is not None
        handler = registration.join_input if dialog.flow == registration.FLOW else registration.profile_input
        await handler(ctx, dialog.step, dict(dialog.data), inp)


async def step(uow_factory: UowFactory, telegram_id: int) -> tuple[str, str] | None:
    async with calling(uow_factory, telegram_id) as ctx:
        dialog = await ctx.uow.dialogs.get(ctx.user.id)
        return None if dialog is None else (dialog.flow, dialog.step)


async def answers(uow_factory: UowFactory, telegram_id: int, *, phone: str = PHONE, kind: str = "resident",
                  registry: str | None = None) -> None:
    """Every step after /join up to (not including) the team."""
    await typed(uow_factory, telegram_id, Input(text="Vera Li"))
    await typed(uow_factory, telegram_id, Input(contact_phone=phone, contact_own=True))
    await typed(uow_factory, telegram_id, Input(text="阳光社区"))
    await act(uow_factory, telegram_id, registration.pick, "skills", "repair")
    await act(uow_factory, telegram_id, registration.done, "skills")
    await act(uow_factory, telegram_id, registration.pick, "occupation", "retired")
    await act(uow_factory, telegram_id, registration.done, "hobbies")
    await act(uow_factory, telegram_id, registration.pick, "kind", kind)
    if kind == "business":
        await typed(uow_factory, telegram_id, Input(text="Li's Repairs"))
    await act(uow_factory, telegram_id, registration.pick, "availability", "weekend")
    await act(uow_factory, telegram_id, registration.done, "availability")
    if registry is None:
        await act(uow_factory, telegram_id, registration.done, "registry")
    else:
        await typed(uow_factory, telegram_id, Input(text=registry))


async def teams(uow_factory: UowFactory) -> dict[str, int]:
    async with uow_factory() as uow:
        repair = await uow.teams.add("repair", "维修队", ["repair"])
        errands = await uow.teams.add("errands", "配送队", ["delivery"])
        await uow.commit()
        return {"repair": repair.id, "errands": errands.id}


async def memberships(uow_factory: UowFactory, telegram_id: int) -> list[Volunteer]:
    async with calling(uow_factory, telegram_id) as ctx:
        found = sorted(await ctx.uow.volunteers.of_user(ctx.user.id), key=lambda v: v.id)
        ctx.uow.session.expunge_all()
        return found


async def texts(uow_factory: UowFactory, chat_id: int) -> list[str]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id,
                                                                     OutboxMessage.kind == "send")
                                         .order_by(OutboxMessage.id))
        return [str(row.payload.get("text", "")) for row in rows]


async def join(uow_factory: UowFactory, telegram_id: int, team_id: int, **options: Any) -> None:
    await act(uow_factory, telegram_id, registration.begin_join)
    await answers(uow_factory, telegram_id, **options)
    await act(uow_factory, telegram_id, registration.choose_team, team_id)


async def test_a_join_link_preselects_the_team_and_skips_its_question(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    async with calling(uow_factory, VERA) as ctx:
        team = await ctx.uow.teams.get(ids["errands"])
        assert team is not None
        await registration.begin_join(ctx, team)
    assert await step(uow_factory, VERA) == ("join", "name")
    await answers(uow_factory, VERA)
    assert await step(uow_factory, VERA) is None
    [membership] = await memberships(uow_factory, VERA)
    assert (membership.team_id, membership.status, membership.phone) == (ids["errands"], "pending", "+86" + PHONE)
    told = await texts(uow_factory, VERA)
    assert _("Which team would you like to join?") not in told
    assert told[-1] == _("Thank you! A coordinator will confirm your membership of team {team}.", team="配送队")
    centre = await texts(uow_factory, -100)
    group = I18N.translator("zh")  # the group reads the default language
    assert centre[-1].startswith(group("🙋 {name} asks to join team {team}.", name="Vera Li", team="配送队"))
    assert PHONE not in centre[-1]  # the coordinators' chat is a group
    # The link again while waiting: the volunteer is reminded, the coordinators have their card already.
    async with calling(uow_factory, VERA) as ctx:
        team = await ctx.uow.teams.get(ids["errands"])
        assert team is not None
        await registration.begin_join(ctx, team)
    assert (await texts(uow_factory, VERA))[-1] == told[-1]
    assert await texts(uow_factory, -100) == centre


async def test_a_join_link_whose_team_was_archived_meanwhile_asks_for_a_team(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    async with calling(uow_factory, VERA) as ctx:
        team = await ctx.uow.teams.get(ids["errands"])
        assert team is not None
        await registration.begin_join(ctx, team)
        team.active = False
        await ctx.uow.commit()
    await answers(uow_factory, VERA)
    assert await step(uow_factory, VERA) == ("join", "team")
    await act(uow_factory, VERA, registration.choose_team, ids["repair"])
    assert [m.team_id for m in await memberships(uow_factory, VERA)] == [ids["repair"]]


async def test_a_join_link_to_a_team_one_is_in_says_so(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    await join(uow_factory, VERA, ids["repair"])
    async with uow_factory() as uow:
        [membership] = await memberships(uow_factory, VERA)
        assert await uow.volunteers.decide(membership.id, True)
        await uow.commit()
    async with calling(uow_factory, VERA) as ctx:
        team = await ctx.uow.teams.get(ids["repair"])
        assert team is not None
        await registration.begin_join(ctx, team)
    assert await step(uow_factory, VERA) is None
    assert (await texts(uow_factory, VERA))[-1] == _("You are already a member of team {team}.", team="维修队")


async def test_registered_people_are_asked_only_for_the_team(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    await join(uow_factory, VERA, ids["repair"], registry="ZJ-2024-000123")
    await act(uow_factory, VERA, registration.begin_join)
    assert await step(uow_factory, VERA) == ("join", "team")
    # The team asked for already is not offered again; a stale tap on it changes nothing.
    await act(uow_factory, VERA, registration.choose_team, ids["errands"])
    first, second = await memberships(uow_factory, VERA)
    assert (first.name, first.community, first.skills, first.availability) == \
        (second.name, second.community, second.skills, second.availability)
    assert (first.registry_number, second.registry_number) == ("ZJ-2024-000123", None)  # unique: kept once
    async with calling(uow_factory, VERA) as ctx:
        assert registration.profile_of(await ctx.uow.volunteers.of_user(ctx.user.id))["registry"] == "ZJ-2024-000123"
        with pytest.raises(Conflict):
            await registration.begin_join(ctx)  # every team asked for already


async def test_someone_elses_registry_number_is_refused(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    await join(uow_factory, VERA, ids["repair"], registry="ZJ-2024-000123")
    await join(uow_factory, OLGA, ids["errands"], phone="13900139000", registry="ZJ20240999")
    await act(uow_factory, OLGA, registration.edit_profile, "registry")
    with pytest.raises(Conflict):
        await typed(uow_factory, OLGA, Input(text="zj-2024-000123"))
    with pytest.raises(InvalidInput):
        await typed(uow_factory, OLGA, Input(text="12-34"))
    await typed(uow_factory, OLGA, Input(text="zj 2024 0999 1"))  # her own again, written differently: fine
    [membership] = await memberships(uow_factory, OLGA)
    assert membership.registry_number == "ZJ202409991"


async def test_buttons_of_another_step_and_other_input_are_refused(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    with pytest.raises(Conflict) as closed:
        await act(uow_factory, VERA, registration.pick, "kind", "resident")
    assert closed.value.message == registration.NOT_JOINING
    await act(uow_factory, VERA, registration.begin_join)
    with pytest.raises(Conflict) as stale:
        await act(uow_factory, VERA, registration.pick, "kind", "resident")
    assert stale.value.message == registration.OUT_OF_STEP
    with pytest.raises(Conflict):
        await act(uow_factory, VERA, registration.choose_team, ids["repair"])
    await typed(uow_factory, VERA, Input(text="Vera Li"))
    with pytest.raises(InvalidInput):  # a typed number
        await typed(uow_factory, VERA, Input(text=PHONE))
    with pytest.raises(InvalidInput):  # someone else's contact
        await typed(uow_factory, VERA, Input(contact_phone=PHONE, contact_name="Bob"))
    await typed(uow_factory, VERA, Input(contact_phone=PHONE, contact_own=True))
    await typed(uow_factory, VERA, Input(text="阳光社区"))
    with pytest.raises(InvalidInput):
        await act(uow_factory, VERA, registration.pick, "skills", "juggling")
    with pytest.raises(InvalidInput):
        await typed(uow_factory, VERA, Input(text="repair"))
    assert await step(uow_factory, VERA) == ("join", "skills")


async def test_profile_edits_reach_every_membership(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    await join(uow_factory, VERA, ids["repair"])
    await act(uow_factory, VERA, registration.begin_join)
    await act(uow_factory, VERA, registration.choose_team, ids["errands"])
    # Becoming a business asks for its name too; the answers go to both memberships.
    await act(uow_factory, VERA, registration.edit_profile, "kind")
    await act(uow_factory, VERA, registration.pick, "kind", "business")
    assert await step(uow_factory, VERA) == ("profile", "organisation")
    await typed(uow_factory, VERA, Input(text="Li's Repairs"))
    assert await step(uow_factory, VERA) is None
    assert [(m.kind, m.organisation) for m in await memberships(uow_factory, VERA)] == \
        [("business", "Li's Repairs")] * 2
    await act(uow_factory, VERA, registration.edit_profile, "hobbies")
    await act(uow_factory, VERA, registration.pick, "hobbies", "music")
    await act(uow_factory, VERA, registration.pick, "hobbies", "travel")
    await act(uow_factory, VERA, registration.pick, "hobbies", "music")
    await act(uow_factory, VERA, registration.done, "hobbies")
    await act(uow_factory, VERA, registration.edit_profile, "kind")
    await act(uow_factory, VERA, registration.pick, "kind", "property")
    assert [(m.kind, m.organisation, m.hobbies) for m in await memberships(uow_factory, VERA)] == \
        [("property", "", "travel")] * 2
    with pytest.raises(InvalidInput):  # no business name to edit any more
        await act(uow_factory, VERA, registration.edit_profile, "organisation")
    profile = (await texts(uow_factory, VERA))[-1]
    assert profile.startswith(_("<b>Your volunteer profile</b>")) and _("Travel") in profile


async def test_a_roster_entry_is_claimed_with_the_profile(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    async with uow_factory() as uow:
        await uow.volunteers.insert_many([{"team_id": ids["repair"], "name": "李维拉", "phone": "+86" + PHONE,
                                           "registry_number": "VR20240001", "status": "approved",
                                           "source": "roster", "skills": ["repair"]}])
        await uow.commit()
    await join(uow_factory, VERA, ids["repair"], registry="VR20249999")
    [membership] = await memberships(uow_factory, VERA)
    assert (membership.source, membership.status, membership.registry_number) == ("roster", "approved", "VR20240001")
    assert (membership.name, membership.occupation, membership.availability) == ("Vera Li", "retired", ["weekend"])
    assert (await texts(uow_factory, VERA))[-1] == _("You are already a member of team {team}.", team="维修队")


async def test_profile_without_membership_points_to_join(uow_factory: UowFactory) -> None:
    await act(uow_factory, VERA, registration.show_profile)
    assert await texts(uow_factory, VERA) == [_("You are not registered as a volunteer yet. Tap 🙋 Become a "
                                                "volunteer to register.")]
    with pytest.raises(Conflict):
        await act(uow_factory, VERA, registration.edit_profile, "name")


def test_settings_reach_the_services(tmp_path: Any) -> None:
    path = tmp_path / "c.toml"
    path.write_text('communities = ["阳光社区", "  幸福   社区 "]\n[volunteers]\napproval_required = false\n',
                    encoding="utf-8")
    config = service_config(load_settings(path))
    assert (config.approval_required, config.communities) == (False, ("阳光社区", "幸福 社区"))
    assert service_config(load_settings(tmp_path / "c.toml", communities=[])).communities == ()
    for bad in ('communities = ["a", "a"]', 'communities = [""]', f'communities = ["{"x" * 65}"]'):
        path.write_text(bad + "\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="communities"):
            load_settings(path)


async def test_two_people_racing_for_one_registry_number_the_database_decides(uow_factory: UowFactory) -> None:
    """Both type the number before either finishes (each check passes); the unique index lets the
    first membership have it, and the second gets a clear refusal instead of an error."""
    ids = await teams(uow_factory)
    for person in (VERA, OLGA):
        await act(uow_factory, person, registration.begin_join)
        await answers(uow_factory, person, phone=f"1380013800{person % 10}", registry="ZJ33010612345")
    await act(uow_factory, VERA, registration.choose_team, ids["repair"])
    with pytest.raises(Conflict) as refused:
        await act(uow_factory, OLGA, registration.choose_team, ids["repair"])
    assert refused.value.message == registration.REGISTRY_TAKEN
    assert [v.registry_number for v in await memberships(uow_factory, VERA)] == ["ZJ33010612345"]
    assert await memberships(uow_factory, OLGA) == []
    assert await step(uow_factory, OLGA) == ("join", "team")  # her answers are kept; she can ask a coordinator
