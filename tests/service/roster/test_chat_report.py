"""The roster report a coordinator reads in the chat is in their language all through: the
columns, each row's reason and its values (the known skills by their names, not codes)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from bot.i18n import I18n
from bot.services import roster_chat
from bot.services.context import ServiceConfig
from bot.services.roster import import_roster
from bot.services.wiring import service_context
from storage.models import OutboxMessage
from tests.service.roster.conftest import SKILLS
from tests.support.dbfixtures import UowFactory
from tests.support.rosterfiles import write_csv

CONFIG = ServiceConfig(categories=SKILLS)
BAD_ROWS = [
    ("", "13800138000", "", "东湖社区", "repair", "repair"),  # no name
    ("李四", "电话不知道", "", "东湖社区", "repair", "repair"),  # not a phone
    ("王五", "13800138002", "1.23456789012345E+17", "东湖社区", "repair", "repair"),  # a rounded number
    ("赵六", "13800138003", "", "东湖社区", "没有这个队", "repair"),  # no such team
    ("钱七", "13800138004", "", "东湖社区", "repair", "飞行"),  # no such skill
    ("孙八", "13800138000", "", "东湖社区", "repair", "repair"),
    ("孙八", "13800138000", "", "东湖社区", "repair", "repair"),  # the same person twice
]


async def report_text(uow_factory: UowFactory, tmp_path: Path, language: str) -> str:
    path = tmp_path / "名单.csv"
    write_csv(path, BAD_ROWS)
    report = await import_roster(uow_factory, path, skills=SKILLS)
    async with uow_factory() as uow:
        coordinator = await uow.users.ensure(1, "Coco", language)
        await roster_chat.imported(service_context(uow, coordinator, i18n=I18n(), config=CONFIG), "名单.csv", report)
    async with uow_factory() as uow:
        row = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()))).first()
        assert row is not None
        return str(row.payload["text"])


async def test_every_row_reason_is_chinese_for_a_chinese_reader(uow_factory: UowFactory, teams: dict[str, int],
                                                                tmp_path: Path) -> None:
    text = await report_text(uow_factory, tmp_path, "zh")
    lines = text.splitlines()
    assert len(lines) == 1 + 6, text  # the summary, then one line per bad row
    assert "第 6 行，技能： 未知技能 '飞行'（可填：咨询、代购配送、🚨紧急求助、生活照料" in text
    # Nothing English beyond what the file itself held (its values are quoted back as typed).
    assert re.findall(r"[A-Za-z]{3,}", text.replace("csv", "")) == [], text


async def test_an_english_reader_reads_english_reasons_and_skill_names(uow_factory: UowFactory,
                                                                      teams: dict[str, int], tmp_path: Path) -> None:
    text = await report_text(uow_factory, tmp_path, "en")
    assert "Row 6, Skills: unknown skill '飞行' (known: Consulting, Delivery, Emergency, Housekeeping" in text
    assert "Row 3, Phone: not a phone number: '电话不知道'" in text
