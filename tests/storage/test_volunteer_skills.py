"""Skills as rows (``volunteer_skills``): every writer of a volunteer's skills or community keeps
them in step, migration 0007 fills them from the existing lists and goes down and up again, and
``/find`` answers from them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import alembic_config, upgrade
from storage.models import Volunteer, VolunteerSkill
from storage.uow import UnitOfWork
from tests.support.dbfixtures import UowFactory

VOLUNTEERS = Volunteer.metadata.tables["volunteers"]


async def _skills(uow_factory: UowFactory) -> set[tuple[int, str, str]]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(VolunteerSkill.volunteer_id, VolunteerSkill.skill, VolunteerSkill.community))
        return {tuple(row) for row in rows.all()}  # type: ignore[misc]


async def _team_and_person(uow: UnitOfWork, telegram_id: int, categories: list[str] | None = None) -> tuple[int, int]:
    team = await uow.teams.add(f"t{telegram_id}", f"Team {telegram_id}", categories or ["delivery"])
    person = await uow.users.ensure(telegram_id, f"p{telegram_id}")
    return team.id, person.id


async def test_every_writer_keeps_the_rows_in_step(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        team, person = await _team_and_person(uow, 1)
        joined = await uow.volunteers.add(person, team, "Ann", "+8613800000001", community="Maple",
                                          skills=["repair", "training"])
        await uow.volunteers.insert_many([
            {"team_id": team, "name": "Rob", "phone": "+8613800000002", "community": "Oak", "status": "approved",
             "source": "roster", "skills": ["repair", "repair", 7]}])
        uow.session.add(Volunteer(team_id=team, name="Cy", phone="+8613800000003", community="Elm",
                                  skills=["consulting"], created_at=uow.now()))
        await uow.commit()
    async with uow_factory() as uow:
        cy, rob = (await uow.session.scalars(
            select(Volunteer.id).where(Volunteer.name.in_(["Rob", "Cy"])).order_by(Volunteer.name))).all()
    assert await _skills(uow_factory) == {(joined.id, "repair", "maple"), (joined.id, "training", "maple"),
                                          (rob, "repair", "oak"), (cy, "consulting", "elm")}

    async with uow_factory() as uow:
        await uow.volunteers.update_profile(person, community="Birch", skills=["emergency"])
        await uow.volunteers.update_many([{"id": rob, "skills": []}, {"id": cy, "community": "Pine"}])
        await uow.commit()

    assert await _skills(uow_factory) == {(joined.id, "emergency", "birch"), (cy, "consulting", "pine")}


def _entry(team_id: int, name: str, community: str, status: str, skills: list[str],
           user_id: int | None = None) -> dict[str, object]:
    return {"team_id": team_id, "user_id": user_id, "name": name, "phone": f"+{len(name)}", "community": community,
            "status": status, "skills": skills}


async def test_find_answers_from_skills_and_team_categories(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        team, person = await _team_and_person(uow, 1, ["delivery"])
        repairers, _ = await _team_and_person(uow, 2, ["repair"])
        await uow.volunteers.insert_many([
            _entry(team, "Ann", "Maple Court", "approved", ["repair"], user_id=person),
            _entry(team, "Bea", "Oak Row", "approved", ["repair"]),
            _entry(team, "Cal", "Maple Court", "pending", ["repair"]),
            _entry(repairers, "Dot", "maple court", "approved", []),
            _entry(team, "Eve", "Maple Court", "approved", ["training"]),
        ])
        await uow.commit()

    async with uow_factory() as uow:
        everywhere = await uow.volunteers.find("repair", None, limit=None)
        in_maple = await uow.volunteers.find("repair", "MAPLE", limit=None)

    # On duty first, then those without Telegram by name; pending and other skills never.
    assert [(t.name, t.team, t.on_duty) for t in everywhere] == [
        ("Ann", "Team 1", True), ("Bea", "Team 1", None), ("Dot", "Team 2", None)]
    assert [t.name for t in in_maple] == ["Ann", "Dot"]


def _migrate(connection: Connection, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


async def _run(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda c: _migrate(c, revision, down=down))


async def test_0007_fills_the_rows_from_the_lists_and_goes_down_and_up(bare_engine: AsyncEngine) -> None:
    await upgrade(bare_engine, "0006")
    async with bare_engine.begin() as connection:
        await connection.exec_driver_sql(
            "INSERT INTO teams (id, code, name, categories, active, created_at) "
            "VALUES (1, 'repair', 'Repair', '[]', true, CURRENT_TIMESTAMP)")
        for number, skills, community in ((1, '["repair", "training"]', "Maple"), (2, "[]", "Oak"),
                                          (3, '["consulting", "consulting"]', "")):
            await connection.exec_driver_sql(
                "INSERT INTO volunteers (id, team_id, name, phone, status, community, skills, source, created_at) "
                f"VALUES ({number}, 1, 'V', '+86', 'approved', '{community}', '{skills}', 'roster', "
                "CURRENT_TIMESTAMP)")

    await upgrade(bare_engine)

    filled = {(1, "repair", "maple"), (1, "training", "maple"), (3, "consulting", "")}
    async with bare_engine.connect() as connection:
        rows = await connection.execute(
            select(VolunteerSkill.volunteer_id, VolunteerSkill.skill, VolunteerSkill.community))
        assert {tuple(row) for row in rows} == filled

    await _run(bare_engine, "0006", down=True)
    async with bare_engine.begin() as connection:
        tables = await connection.run_sync(lambda c: c.dialect.get_table_names(c))
        assert "volunteer_skills" not in tables
        # Without the triggers, volunteers are written as before 0007; going up again fills the rows anew.
        await connection.execute(update(VOLUNTEERS).values(skills=["delivery"]))

    await _run(bare_engine, "head")
    async with bare_engine.connect() as connection:
        rows = await connection.execute(
            select(VolunteerSkill.volunteer_id, VolunteerSkill.skill, VolunteerSkill.community))
        assert {tuple(row) for row in rows} == {(1, "delivery", "maple"), (2, "delivery", "oak"),
                                                (3, "delivery", "")}
