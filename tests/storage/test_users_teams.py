"""Users, teams and volunteers: first contact under concurrency, 64-bit ids, decisions once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import User
from tests.support.dbfixtures import FakeClock, UowFactory

BIG_USER = 9_000_000_000_123  # beyond 32 bits, as newer Telegram user ids are
SUPERGROUP = -1001234567890123  # supergroup chat ids are large and negative
MIGRATED_SUPERGROUP = -1009876543210987


async def test_concurrent_first_contact_creates_one_user(uow_factory: UowFactory) -> None:
    async def first_contact() -> int:
        async with uow_factory() as uow:
            user = await uow.users.ensure(BIG_USER, "Zoë", "en")
            await uow.commit()
        return user.id

    ids = await asyncio.gather(*(first_contact() for _ in range(20)))

    assert len(set(ids)) == 1
    async with uow_factory() as uow:
        rows = (await uow.session.scalars(select(User))).all()
        assert [(u.id, u.telegram_id, u.first_name, u.language) for u in rows] == [
            (ids[0], BIG_USER, "Zoë", "en")]


async def test_ensure_keeps_the_row_and_follows_the_name(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        first = await uow.users.ensure(BIG_USER, "Old name")
        await uow.commit()

    async with uow_factory() as uow:
        again = await uow.users.ensure(BIG_USER, "New name " + "x" * 200)
        assert again.id == first.id
        unchanged = await uow.users.ensure(BIG_USER, "")  # an empty name keeps the known one
        assert unchanged.first_name.startswith("New name")
        await uow.commit()

    async with uow_factory() as uow:
        user = await uow.users.by_telegram_id(BIG_USER)
        assert user is not None
        assert user.id == first.id
        assert user.first_name == ("New name " + "x" * 200)[:128]
        assert await uow.users.get(first.id) is not None
        assert await uow.session.scalar(select(func.count()).select_from(User)) == 1
        assert await uow.users.by_telegram_id(-BIG_USER) is None


async def test_reachability_changes_are_reported_once(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.users.ensure(BIG_USER, "Ann")
        assert not await uow.users.set_reachable(BIG_USER, True)  # already reachable
        assert await uow.users.set_reachable(BIG_USER, False)
        assert not await uow.users.set_reachable(BIG_USER, False)
        assert await uow.users.set_reachable(BIG_USER, True)
        assert not await uow.users.set_reachable(12345, False)  # unknown user
        await uow.commit()


async def test_coordinators(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        a = await uow.users.ensure(1, "A")
        await uow.users.ensure(2, "B")
        c = await uow.users.ensure(BIG_USER, "C")
        a.is_coordinator = c.is_coordinator = True
        await uow.commit()

    async with uow_factory() as uow:
        assert [u.telegram_id for u in await uow.users.coordinators()] == [1, BIG_USER]


async def test_teams_bind_move_and_unbind_chat(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        repairs = await uow.teams.add("REPAIR", "Repairs", ["repair", "electric"])
        shop = await uow.teams.add("shop", "Shopping", ["shopping"])
        await uow.teams.bind_chat(repairs.id, SUPERGROUP)
        await uow.commit()

    async with uow_factory() as uow:
        team = await uow.teams.by_chat(SUPERGROUP)
        assert team is not None and team.id == repairs.id and team.chat_id == SUPERGROUP
        assert (await uow.teams.by_code("repair")).id == repairs.id  # type: ignore[union-attr]
        assert [t.id for t in await uow.teams.for_category("electric")] == [repairs.id]
        # The chat moves to another team: the first one loses it (chat ids are unique).
        await uow.teams.bind_chat(shop.id, SUPERGROUP)
        await uow.commit()

    async with uow_factory() as uow:
        assert (await uow.teams.get(repairs.id)).chat_id is None  # type: ignore[union-attr]
        assert (await uow.teams.by_chat(SUPERGROUP)).id == shop.id  # type: ignore[union-attr]
        # A group upgraded to a supergroup: the team follows it to the new id.
        assert await uow.teams.move_chat(SUPERGROUP, MIGRATED_SUPERGROUP)
        assert not await uow.teams.move_chat(SUPERGROUP, MIGRATED_SUPERGROUP)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.teams.by_chat(SUPERGROUP) is None
        moved = await uow.teams.by_chat(MIGRATED_SUPERGROUP)
        assert moved is not None and moved.id == shop.id
        unbound = await uow.teams.unbind_chat(MIGRATED_SUPERGROUP)
        assert unbound is not None and unbound.id == shop.id
        assert await uow.teams.unbind_chat(MIGRATED_SUPERGROUP) is None
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.teams.by_chat(MIGRATED_SUPERGROUP) is None
        assert (await uow.teams.get(shop.id)).chat_id is None  # type: ignore[union-attr]
        shop_team = await uow.teams.get(shop.id)
        assert shop_team is not None
        shop_team.active = False
        await uow.commit()

    async with uow_factory() as uow:
        assert [t.id for t in await uow.teams.active()] == [repairs.id]
        assert await uow.teams.for_category("shopping") == []


async def test_volunteer_is_decided_only_once(uow_factory: UowFactory, clock: FakeClock) -> None:
    async with uow_factory() as uow:
        user = await uow.users.ensure(BIG_USER, "Vic")
        team = await uow.teams.add("med", "Medicine", ["medicine"])
        volunteer = await uow.volunteers.add(user.id, team.id, "Vic", "+15550101")
        assert volunteer.status == "pending"
        await uow.commit()

    clock.advance(3600)

    async def decide(approve: bool) -> bool:
        async with uow_factory() as uow:
            decided = await uow.volunteers.decide(volunteer.id, approve)
            await uow.commit()
        return decided

    # Two coordinators press at once, one approving and one rejecting: one decision stands.
    results = await asyncio.gather(decide(True), decide(False))
    assert sorted(results) == [False, True]
    expected = "approved" if results[0] else "rejected"

    async with uow_factory() as uow:
        assert not await uow.volunteers.decide(volunteer.id, True)
        row = await uow.volunteers.get(volunteer.id)
        assert row is not None
        assert (row.status, row.decided_at) == (expected, clock())
        assert (await uow.volunteers.approved(user.id, team.id) is not None) == (expected == "approved")
        assert [v.id for v in await uow.volunteers.of_user(user.id)] == [volunteer.id]


async def test_rejected_volunteer_can_apply_again(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        user = await uow.users.ensure(BIG_USER, "Vic")
        team = await uow.teams.add("med", "Medicine", ["medicine"])
        volunteer = await uow.volunteers.add(user.id, team.id, "Vic", "+15550101")
        assert await uow.volunteers.decide(volunteer.id, False)
        await uow.commit()

    async with uow_factory() as uow:
        again = await uow.volunteers.add(user.id, team.id, "Victor", "+15550102")
        assert again.id == volunteer.id
        assert (again.status, again.name, again.phone) == ("pending", "Victor", "+15550102")
        assert await uow.volunteers.decide(again.id, True)
        await uow.commit()

    async with uow_factory() as uow:
        approved = await uow.volunteers.approved(user.id, team.id)
        assert approved is not None and approved.name == "Victor"
