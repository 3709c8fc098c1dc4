"""A report's files (docs/measures.md): JSON (every rate with its numerator and denominator) and
the XLSX workbook — a summary sheet, then by team, by community, by month, and the orders behind
them — written with our streaming writer (:mod:`bot.services.xlsx_stream`), in Chinese like the
registry export; and the two charts (:mod:`bot.views.charts`): the rates month by month and the
teams side by side. The CLI and the outbox sender (``/report``'s document and photos) both write
them here."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.attachments import ReportChart, ReportFile
from bot.domain.measures import Measures, Period, Rate, Scope, ScopeKind
from bot.i18n import I18n, Translate
from bot.services import measures
from bot.services.context import MeasureConfig, ServiceConfig
from bot.services.xlsx_stream import Cell, XlsxWriter
from bot.views import charts
from bot.views.common import month_label
from storage.measures import OrderRow
from storage.uow import UnitOfWork

# The rates' column names in the workbook (the JSON uses the keys of Measures.rates()).
RATE_COLUMNS = {"awareness": "知晓率", "volunteers_served": "参与率(志愿者)", "residents_ordered": "参与率(居民)",
                "satisfaction": "满意率", "unrated": "未评价占比", "response": "响应率", "resolution": "解决率"}
ORDER_HEADER = ("编号", "下单时间", "社区", "楼栋", "队伍", "类别", "状态", "轮次", "接单(分钟)", "完成(分钟)",
                "评价", "未评价")


def rate_json(rate: Rate) -> dict[str, Any]:
    return {"numerator": rate.numerator, "denominator": rate.denominator, "value": rate.value}


def measures_json(m: Measures) -> dict[str, Any]:
    return {**{name: rate_json(rate) for name, rate in m.rates().items()},
            "median_accept_minutes": m.median_accept_minutes, "median_done_minutes": m.median_done_minutes}


def month_name(period: Period) -> str:
    return f"{period.start.year:04d}-{period.start.month:02d}"


def report_json(data: measures.ReportData, config: MeasureConfig) -> dict[str, Any]:
    """The report as plain JSON values."""
    scope = data.place.scope
    return {"place": {"scope": scope.kind, "key": scope.key, "name": data.place.name},
            "period": {"start": data.period.start.isoformat(), "end": data.period.end.isoformat()},
            "response_minutes": config.response_minutes, "measures": measures_json(data.measures),
            "by_month": [{"month": month_name(p), "measures": measures_json(m)} for p, m in data.by_month],
            "by_team": [{"team": code, "measures": measures_json(m)} for code, m in data.by_team],
            "by_community": [{"community": name, "measures": measures_json(m)} for name, m in data.by_community]}


def _header(first: str) -> tuple[str, ...]:
    columns = [first]
    for name in RATE_COLUMNS.values():
        columns += [f"{name}分子", f"{name}分母", f"{name}"]
    return (*columns, "接单中位数(分钟)", "完成中位数(分钟)")


def _row(label: str, m: Measures) -> list[Cell]:
    row: list[Cell] = [label]
    for rate in m.rates().values():
        value = rate.value
        row += [rate.numerator, rate.denominator, None if value is None else round(value, 4)]
    return [*row, m.median_accept_minutes, m.median_done_minutes]


def _order(row: OrderRow, tz: ZoneInfo) -> list[Cell]:
    def after(at: dt.datetime | None) -> Cell:
        return None if at is None else round((at - row.created_at).total_seconds() / 60, 1)

    return [row.id, row.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), row.community, row.building, row.team,
            row.category, row.status, row.round, after(row.accepted_at), after(row.done_at), row.stars,
            int(row.no_response)]


async def write_xlsx(uow: UnitOfWork, data: measures.ReportData, path: Path, tz: ZoneInfo) -> None:
    with XlsxWriter(path) as book:
        with book.sheet("总览") as sheet:
            sheet.append(_header("范围"))
            sheet.append(_row(data.place.name or "全区", data.measures))
        for title, first, rows in (("按队伍", "队伍", data.by_team), ("按社区", "社区", data.by_community),
                                   ("按月", "月份", [(month_name(p), m) for p, m in data.by_month])):
            with book.sheet(title) as sheet:
                sheet.append(_header(first))
                for label, m in rows:
                    sheet.append(_row(label, m))
        with book.sheet("订单") as sheet:
            sheet.append(ORDER_HEADER)
            async for page in measures.orders_behind(uow, data, tz):
                for order in page:
                    sheet.append(_order(order, tz))


async def build(uow: UnitOfWork, config: ServiceConfig, scope: Scope, period: Period) -> measures.ReportData:
    return await measures.report_data(uow, config.measures, scope, period, config.timezone)


def _scope(kind: str, key: str) -> Scope:
    kinds: Sequence[ScopeKind] = ("district", "community", "building", "team")
    for known in kinds:
        if kind == known:
            return Scope(known, key)
    raise ValueError(f"unknown scope {kind!r}")


async def chart_png(uow: UnitOfWork, data: measures.ReportData, chart: str, translate: Translate) -> bytes:
    """One of the report's charts (``months`` or ``teams``) as a PNG; drawn in a thread (a few
    tenths of a second of CPU), with the teams by name."""
    if chart == "months":
        months = [(month_label(translate, period.start), figures.chart_rates()) for period, figures in data.by_month]
        return await asyncio.to_thread(charts.rates_by_month, months, translate)
    names = {team.code: team.name for team in await uow.teams.every()}
    teams = [(names.get(code, code), figures.chart_rates()) for code, figures in data.by_team]
    return await asyncio.to_thread(charts.teams_side_by_side, teams, translate)


async def write(uow_factory: Callable[[], UnitOfWork], attachment: ReportFile | ReportChart, path: Path,
                config: ServiceConfig) -> None:
    """The workbook or chart an outbox message carries, made as it goes out."""
    async with uow_factory() as uow:
        data = await build(uow, config, _scope(attachment.scope, attachment.key),
                           Period(attachment.start, attachment.end))
        if isinstance(attachment, ReportChart):
            translate = I18n(config.default_language).translator(attachment.language)
            image = await chart_png(uow, data, attachment.chart, translate)
            await asyncio.to_thread(path.write_bytes, image)
            return
        await write_xlsx(uow, data, path, config.timezone)
