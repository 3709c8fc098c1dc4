"""The hours ledger's queries (sqlite, and postgresql with TEST_DATABASE_URL): totals by source and
period with UTC bounds of Shanghai's months (an entry at 17:00 UTC on 30 November is December
there), corrections under their entry's source, a team's totals per member, the export's rows with
corrections folded and zero rows left out, and the volunteer's figure recorded only once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from storage.ledger import ACTIVITY, HONOUR, ORDER, Sums
from storage.models import Activity, Volunteer
from tests.storage.conftest import AddOrder, AddUsers
from tests.support.dbfixtures import UowFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI).astimezone(dt.UTC)


DECEMBER = (local(2026, 12, 1), local(2027, 1, 1))
YEAR = (local(2026, 1, 1), local(2027, 1, 1))


async def test_totals_by_source_and_period_in_the_centres_time_zone(uow_factory: UowFactory, add_users: AddUsers,
                                                                    add_order: AddOrder) -> None:
    vera, other = await add_users(101, 102)
    order = await add_order(status="done")
    async with uow_factory() as uow:
        late_november_utc = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)  # 1 December, 01:00 in Shanghai
        in_december = await uow.ledger.add(vera, ORDER, 90, late_november_utc, order_id=order, round=1)
        await uow.ledger.add(vera, ORDER, 60, dt.datetime(2026, 11, 30, 15, 59, tzinfo=dt.UTC))  # 23:59: November
        await uow.ledger.add(vera, ACTIVITY, 120, local(2026, 12, 5, 9))
        await uow.ledger.add(vera, HONOUR, 300, local(2026, 12, 6))
        await uow.ledger.add(vera, ORDER, 45, local(2025, 12, 31, 23))  # last year
        await uow.ledger.add(other, ORDER, 1000, local(2026, 12, 2))
        correction = await uow.ledger.correct(in_december.id, -30, "left early", other)
        assert correction is not None and correction.served_at == in_december.served_at
        assert await uow.ledger.correct(correction.id, 5, "a correction of a correction", other) is None
        await uow.commit()
    async with uow_factory() as uow:
        totals = await uow.ledger.totals(vera, DECEMBER, YEAR)
        assert totals == {ORDER: Sums(60, 120, 165), ACTIVITY: Sums(120, 120, 120), HONOUR: Sums(300, 300, 300)}
        assert await uow.ledger.net_minutes(in_december.id) == 60
        assert await uow.ledger.totals(vera, (local(2026, 11, 1), local(2026, 12, 1)), YEAR) == {
            ORDER: Sums(60, 120, 165), ACTIVITY: Sums(0, 120, 120), HONOUR: Sums(0, 300, 300)}


async def test_a_teams_totals_per_member_and_the_export_rows(uow_factory: UowFactory, add_users: AddUsers,
                                                            add_order: AddOrder) -> None:
    vera, victor, outsider = await add_users(201, 202, 203)
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "Repair", ["repair"])
        elsewhere = await uow.teams.add("walks", "Walks", ["delivery"])
        for user, name, number in ((vera, "Vera", "R-1"), (victor, "Victor", None)):
            uow.session.add(Volunteer(user_id=user, team_id=team.id, name=name, phone="+8613800000000",
                                      status="approved", registry_number=number, created_at=uow.now()))
        activity = Activity(team_id=team.id, title="Repair day", place="Hall", starts_at=local(2026, 12, 3, 9),
                            ends_at=local(2026, 12, 3, 12), capacity=5, signup_deadline=local(2026, 12, 2),
                            code="ACT1", created_at=uow.now(), updated_at=uow.now())
        uow.session.add(activity)
        await uow.commit()
    order = await add_order(status="done", category="repair")
    async with uow_factory() as uow:
        first = await uow.ledger.add(vera, ORDER, 120, local(2026, 12, 1, 10), team_id=team.id, order_id=order, round=1)
        await uow.ledger.add(vera, ACTIVITY, 180, local(2026, 12, 3, 9), team_id=team.id, activity_id=activity.id)
        zeroed = await uow.ledger.add(victor, ORDER, 30, local(2026, 12, 4, 9), team_id=team.id, order_id=order,
                                      round=2)
        await uow.ledger.add(victor, HONOUR, 60, local(2026, 12, 4, 10), team_id=team.id, reason="flood relief")
        await uow.ledger.add(victor, ORDER, 600, local(2026, 6, 1), team_id=team.id)  # June: this year
        await uow.ledger.add(outsider, ORDER, 50, local(2026, 12, 4), team_id=elsewhere.id)
        await uow.ledger.add(vera, ORDER, 40, local(2027, 1, 1, 0))  # January: not December's
        await uow.ledger.correct(first.id, 15, "forgot the trip back", outsider)
        await uow.ledger.correct(zeroed.id, -30, "did not go", outsider)
        await uow.commit()
    async with uow_factory() as uow:
        per_member = await uow.ledger.team_totals(team.id, DECEMBER, YEAR)
        assert per_member == {vera: {ORDER: Sums(135, 135, 135), ACTIVITY: Sums(180, 180, 180)},
                              victor: {ORDER: Sums(0, 600, 600), HONOUR: Sums(60, 60, 60)}}
        batches = [batch async for batch in uow.ledger.export_rows(DECEMBER, batch=1)]
        rows = [row for batch in batches for row in batch if row.source != HONOUR]
        assert [(r.name, r.registry_number, r.order_id, r.category, r.activity_title, r.minutes) for r in rows] == [
            ("Vera", "R-1", order, "repair", None, 135), ("Vera", "R-1", None, None, "Repair day", 180),
            ("", "", None, None, None, 50)]  # Victor's zeroed entry and his honour hours left out; no roster row
        assert len(batches) == 4  # pages of one entry, in time order; a correction waits with its entry
        honour = [row async for batch in uow.ledger.export_rows(DECEMBER) for row in batch if row.source == HONOUR]
        assert [(r.name, r.minutes) for r in honour] == [("Victor", 60)]


async def test_the_volunteers_own_figure_is_set_once(uow_factory: UowFactory, add_users: AddUsers,
                                                     add_order: AddOrder) -> None:
    (vera,) = await add_users(301)
    order = await add_order(status="done")
    async with uow_factory() as uow:
        entry = await uow.ledger.add(vera, ORDER, 45, local(2026, 12, 1), order_id=order, round=1)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.ledger.claim(order, 2, vera, 60)  # no entry of that round
        assert await uow.ledger.claim(order, 1, vera, 60)
        assert not await uow.ledger.claim(order, 1, vera, 90)  # the first figure stands
        await uow.commit()
    async with uow_factory() as uow:
        (stored,) = await uow.ledger.of_order(order)
        assert (stored.id, stored.minutes, stored.claimed_minutes) == (entry.id, 45, 60)
