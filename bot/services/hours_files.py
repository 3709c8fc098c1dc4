"""The ledger's files: the monthly export of service records in the shape the national volunteer
registry imports (CSV or XLSX), and a volunteer's service-record certificate (志愿服务记录证明, a
PDF). Both are made from the ledger when asked — by the CLI, or by the outbox sender when the
message that carries them goes out — and both are in Chinese, the registry's and the certificate's
language, whatever the asker's.

The export's columns (docs/hours.md): 姓名, 志愿者编号 (we hold the registry number, not the ID card
number), 服务项目 (the activity's title, or "求助 #N 类别"), 服务日期 (the local day the service
began), 服务时长(小时). One row per entry with its corrections folded in; entries that come to zero
are left out; honour hours are not service and are not exported (the report counts them apart).
The XLSX is written by :mod:`bot.services.xlsx_stream` (openpyxl's write-only mode is ten times
slower at a district's month).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.domain.attachments import Certificate, HoursExport
from bot.domain.spreadsheets import csv_text
from bot.i18n import I18n, Translate
from bot.services.context import ServiceConfig
from bot.services.hours import days_period, month_period
from bot.services.xlsx_stream import XlsxWriter
from bot.views.common import CATEGORY_NAMES
from bot.views.hours import hours
from storage.ledger import HONOUR, SERVED, ExportRow
from storage.uow import UnitOfWork

EXPORT_HEADER = ("姓名", "志愿者编号", "服务项目", "服务日期", "服务时长(小时)")
FORMATS = (".csv", ".xlsx")
CERTIFICATE_FONT = "STSong-Light"  # reportlab's built-in CID font: Chinese with no font file


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: its rows and their minutes (the total check), and the honour hours
    of the month, which it leaves out."""

    rows: int
    minutes: int
    honour_minutes: int


def _chinese() -> Translate:
    return I18n("zh").translator("zh")


def project(row: ExportRow, _: Translate) -> str:
    """服务项目: the activity's title, or the request's number and kind."""
    if row.activity_title is not None:
        return row.activity_title
    if row.order_id is None:
        return "求助"
    return f"求助 #{row.order_id} {_(CATEGORY_NAMES.get(row.category or '', row.category or ''))}".strip()


class LocalDays:
    """The local day (YYYY-MM-DD) of UTC instants that mostly come in time order: worked out again
    only when an instant leaves the day of the one before (a month's export asks 160,000 times)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.start = self.end = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.day = ""

    def __call__(self, at: dt.datetime) -> str:
        if not self.start <= at < self.end:
            local = at.astimezone(self.tz).date()
            self.day = local.isoformat()
            self.start, self.end = days_period(self.tz, local, local)
        return self.day


def _values(row: ExportRow, day: LocalDays, _: Translate) -> tuple[str, str, str, str, float]:
    return row.name, row.registry_number, project(row, _), day(row.served_at), round(row.minutes / 60, 2)


def _csv_file(path: Path) -> TextIO:
    # UTF-8 with a BOM: what spreadsheet programs need to open Chinese text correctly.
    return path.open("w", encoding="utf-8-sig", newline="")


async def export_month(uow_factory: Callable[[], UnitOfWork], path: str | Path, year: int, month: int,
                       tz: ZoneInfo) -> ExportReport:
    """Write the service records of ``month`` to ``path`` (.csv or .xlsx by its suffix)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError("the export is written as .csv or .xlsx")
    period, _, day = month_period(tz, year, month), _chinese(), LocalDays(tz)
    rows = minutes = honour = 0
    async with uow_factory() as uow:
        if suffix == ".csv":
            with _csv_file(path) as handle:
                writer = csv.writer(handle)
                writer.writerow(EXPORT_HEADER)
                async for batch in uow.ledger.export_rows(period):
                    served = [r for r in batch if r.source in SERVED]
                    writer.writerows((csv_text(v[0]), csv_text(v[1]), csv_text(v[2]), v[3], f"{v[4]:g}")
                                     for v in (_values(r, day, _) for r in served))
                    rows, minutes = rows + len(served), minutes + sum(r.minutes for r in served)
                    honour += sum(r.minutes for r in batch if r.source == HONOUR)
            return ExportReport(rows, minutes, honour)
        with XlsxWriter(path) as book:
            with book.sheet("服务记录") as sheet:
                sheet.append(EXPORT_HEADER)
                async for batch in uow.ledger.export_rows(period):
                    served = [r for r in batch if r.source in SERVED]
                    for r in served:
                        sheet.append(_values(r, day, _))
                    rows, minutes = rows + len(served), minutes + sum(r.minutes for r in served)
                    honour += sum(r.minutes for r in batch if r.source == HONOUR)
            with book.sheet("核对") as check:  # the total check, apart from the rows the registry imports
                check.append(("月份", f"{year:04d}-{month:02d}"))
                check.append(("记录数", rows))
                check.append(("合计时长(小时)", round(minutes / 60, 2)))
                check.append(("未导出的表彰时长(小时)", round(honour / 60, 2)))
    return ExportReport(rows, minutes, honour)


@dataclass(frozen=True)
class CertificateData:
    name: str
    registry_number: str
    teams: tuple[str, ...]
    services: tuple[tuple[str, str, str], ...]  # (date, project, hours)
    served_minutes: int
    honour_minutes: int


async def certificate_data(uow: UnitOfWork, user_id: int, first: dt.date, last: dt.date,
                           tz: ZoneInfo) -> CertificateData:
    """What a certificate says of person ``user_id`` for the local days ``first`` to ``last``."""
    _ = _chinese()
    memberships = [v for v in await uow.volunteers.of_user(user_id) if v.status == "approved"] or \
        list(await uow.volunteers.of_user(user_id))
    teams = [team.name for v in memberships if (team := await uow.teams.get(v.team_id)) is not None]
    name = memberships[0].name if memberships else ""
    number = next((v.registry_number for v in memberships if v.registry_number), "")
    services: list[tuple[str, str, str]] = []
    served = honour = 0
    for entry, minutes in await uow.ledger.entries(user_id, days_period(tz, first, last)):
        if minutes <= 0:
            continue
        if entry.source == HONOUR:
            honour += minutes
            continue
        activity = await uow.activities.get(entry.activity_id) if entry.activity_id is not None else None
        order = await uow.orders.get(entry.order_id) if entry.order_id is not None else None
        row = ExportRow(entry.id, entry.source, name, number or "", entry.order_id,
                        order.category if order else None, activity.title if activity else None,
                        entry.served_at, minutes)
        services.append((entry.served_at.astimezone(tz).date().isoformat(), project(row, _), hours(minutes)))
        served += minutes
    return CertificateData(name, number or "", tuple(dict.fromkeys(teams)), tuple(services), served, honour)


def _day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render_certificate(path: str | Path, data: CertificateData, first: dt.date, last: dt.date, issued: dt.date,
                       centre: str) -> None:
    """The certificate as a PDF (A4, reportlab; Chinese in its built-in CID font)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if CERTIFICATE_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CERTIFICATE_FONT))
    title = ParagraphStyle("title", fontName=CERTIFICATE_FONT, fontSize=20, leading=28, alignment=1)
    body = ParagraphStyle("body", fontName=CERTIFICATE_FONT, fontSize=11, leading=18)
    total = hours(data.served_minutes)
    story = [Paragraph("志愿服务记录证明", title), Spacer(1, 8 * mm),
             Paragraph(f"姓名：{escape(data.name)}", body),
             Paragraph(f"志愿者编号：{escape(data.registry_number or '（未登记）')}", body),
             Paragraph(f"所在队伍：{escape('、'.join(data.teams) or '—')}", body),
             Paragraph(f"服务期间：{_day(first)}至{_day(last)}", body),
             Paragraph(f"服务时长合计：{total} 小时（共 {len(data.services)} 次服务）", body), Spacer(1, 5 * mm)]
    rows = [("服务日期", "服务项目", "时长(小时)"), *data.services, ("合计", "", total)]
    table = Table([[Paragraph(escape(str(cell)), body) for cell in row] for row in rows],
                  colWidths=(32 * mm, 110 * mm, 28 * mm), repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]))
    story.append(table)
    if data.honour_minutes:
        story.append(Paragraph(f"另有表彰时长 {hours(data.honour_minutes)} 小时（不计入服务时长）。", body))
    story += [Spacer(1, 10 * mm), Paragraph("特此证明。", body), Paragraph(f"开具日期：{_day(issued)}", body),
              Paragraph(escape(f"Volunteer Loop — {centre}" if centre else "Volunteer Loop"), body)]
    SimpleDocTemplate(str(path), pagesize=A4, title="志愿服务记录证明", author="Volunteer Loop").build(story)


async def write_certificate(uow_factory: Callable[[], UnitOfWork], path: str | Path, user_id: int, first: dt.date,
                            last: dt.date, *, tz: ZoneInfo, issued: dt.date, centre: str) -> None:
    async with uow_factory() as uow:
        data = await certificate_data(uow, user_id, first, last, tz)
    render_certificate(path, data, first, last, issued, centre)


async def write(uow_factory: Callable[[], UnitOfWork], attachment: HoursExport | Certificate, path: Path,
                config: ServiceConfig, now: dt.datetime) -> None:
    """The file an outbox message carries (see :mod:`bot.adapters.attachments`), made as it goes out."""
    if isinstance(attachment, HoursExport):
        year, month = (int(part) for part in attachment.month.split("-"))
        await export_month(uow_factory, path, year, month, config.timezone)
        return
    await write_certificate(uow_factory, path, attachment.user_id, attachment.start, attachment.end,
                            tz=config.timezone, issued=now.astimezone(config.timezone).date(),
                            centre=config.hours.centre_name)
