"""``/report`` as the handlers call it, on the known month (sqlite, and postgresql with
TEST_DATABASE_URL): the period and place buttons, the text, and the workbook the document carries
(made as the outbox sender makes it, opened with openpyxl) holding the JSON's figures; a resident
is refused, a team leader sees their own team only (a forged button for another is refused)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.domain.attachments import ReportChart, ReportFile, from_payload
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.inputs import Input
from bot.domain.measures import Period, Scope
from bot.services import dialogs, measures, report, report_files
from bot.views import callbacks as cb
from storage.models import OutboxMessage, Volunteer
from tests.support.dbfixtures import FakeClock, UowFactory
from tests.support.known_month import COCO, CONFIG, RITA, VERA, act, known_month


async def sent(uow_factory: UowFactory, telegram_id: int) -> list[dict[str, Any]]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == telegram_id)
                                         .order_by(OutboxMessage.id))
        return [row.payload for row in rows.all()]


def taps(payload: dict[str, Any]) -> list[cb.Button]:
    return [button for row in payload["reply_markup"]["inline_keyboard"] for b in row
            if (button := cb.unpack(b["callback_data"])) is not None]


async def test_a_coordinator_chooses_period_and_place_and_gets_text_and_workbook(
        uow_factory: UowFactory, clock: FakeClock, tmp_path: Path) -> None:
    await known_month(uow_factory, clock)
    clock.now = dt.datetime(2026, 2, 3, 2, 0, tzinfo=dt.UTC)  # "last month" is January
    await act(uow_factory, COCO, report.offer)
    periods = taps((await sent(uow_factory, COCO))[-1])
    assert [b.args for b in periods] == [("this",), ("last",), ("year",)]
    await act(uow_factory, COCO, report.period_chosen, "last")
    places = taps((await sent(uow_factory, COCO))[-1])
    assert [b.args[1] for b in places] == ["d", "c", "c", "t", "t"]
    await act(uow_factory, COCO, report.place_chosen, *places[0].args)
    text, months_chart, teams_chart, document = (await sent(uow_factory, COCO))[-4:]
    assert [from_payload(chart["attachment"]) for chart in (months_chart, teams_chart)] == [
        ReportChart(dt.date(2026, 1, 1), dt.date(2026, 2, 1), "district", "", chart, "en")
        for chart in ("months", "teams")]
    for chart in (months_chart, teams_chart):  # drawn as the message goes out
        drawn = from_payload(chart["attachment"])
        assert isinstance(drawn, ReportChart)
        await report_files.write(uow_factory, drawn, tmp_path / f"{drawn.chart}.png", CONFIG)
        assert (tmp_path / f"{drawn.chart}.png").read_bytes().startswith(b"\x89PNG\r\n")
    assert "Satisfied ratings / ratings given: 2 / 4 (50.0%)" in text["text"].splitlines()
    assert "Awareness (households reached / households): 6 / 180 (3.3%)" in text["text"].splitlines()
    attachment = from_payload(document["attachment"])
    assert attachment == ReportFile(dt.date(2026, 1, 1), dt.date(2026, 2, 1), "district", "")
    assert isinstance(attachment, ReportFile)
    path = tmp_path / "report.xlsx"
    await report_files.write(uow_factory, attachment, path, CONFIG)
    async with uow_factory() as uow:
        data = await report_files.build(uow, CONFIG, Scope(), Period.month(2026, 1))
    expected = report_files.report_json(data, CONFIG.measures)
    book = load_workbook(path, read_only=True)
    summary = list(book["总览"].iter_rows(values_only=True))[1]
    months = list(book["按月"].iter_rows(values_only=True))
    book.close()
    names = list(data.measures.rates())
    assert {n: (summary[1 + 3 * i], summary[2 + 3 * i]) for i, n in enumerate(names)} == {
        n: (expected["measures"][n]["numerator"], expected["measures"][n]["denominator"]) for n in names}
    assert [row[0] for row in months[1:]] == ["2026-01"]


async def test_a_resident_is_refused_and_a_leader_sees_only_their_team(uow_factory: UowFactory,
                                                                       clock: FakeClock) -> None:
    await known_month(uow_factory, clock)
    with pytest.raises(NotAllowed):
        await act(uow_factory, RITA, report.offer)
    with pytest.raises(NotAllowed):
        await act(uow_factory, RITA, report.place_chosen, "this", "d", 0)
    async with uow_factory() as uow:
        vera = await uow.users.by_telegram_id(VERA)
        assert vera is not None
        (membership,) = await uow.volunteers.of_user(vera.id)
        await uow.session.execute(Volunteer.__table__.update().where(Volunteer.id == membership.id)
                                  .values(is_leader=True))
        await uow.commit()
        repair = await uow.teams.by_code("repair")
        care = await uow.teams.by_code("care")
        assert repair is not None and care is not None
    await act(uow_factory, VERA, report.period_chosen, "this")
    places = taps((await sent(uow_factory, VERA))[-1])
    assert [b.args[1:] for b in places] == [("t", repair.id)]
    for forged in (("t", care.id), ("d", 0), ("c", 0)):
        with pytest.raises(NotAllowed):
            await act(uow_factory, VERA, report.place_chosen, "this", *forged)
    await act(uow_factory, VERA, report.place_chosen, "this", "t", repair.id)
    assert (await sent(uow_factory, VERA))[-1]["attachment"]["scope"] == "team"


async def test_households_by_the_button_and_a_short_answer(uow_factory: UowFactory, clock: FakeClock) -> None:
    await known_month(uow_factory, clock)
    await act(uow_factory, COCO, report.households_help)
    with pytest.raises(InvalidInput):  # the place alone: asked again, the dialog stays open
        await act(uow_factory, COCO, dialogs.handle_input, Input(text="A1"))
    assert await act(uow_factory, COCO, dialogs.handle_input, Input(text="A1 300")) is True
    assert (await sent(uow_factory, COCO))[-1]["text"] == "东湖社区 1号楼: 300 households."
    assert await act(uow_factory, COCO, dialogs.handle_input, Input(text="A1 400")) is False  # the dialog is over
    async with uow_factory() as uow:
        found = await measures.place(uow, Scope("building", "A1"))
        assert await uow.measures.households(found.where) == 300
