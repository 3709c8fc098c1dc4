"""Files the outbox uploads, made at send time from the plain description a service queued
(:mod:`bot.domain.attachments`): a QR code becomes a PNG (segno), the roster export a CSV or XLSX
file written by the roster writer the composition root hands in (so the sender imports no service),
the hours export and the certificate likewise by the ledger writer, a person's ``/mydata`` JSON by
the data writer (read from the database now, so no row ever holds it); a 志愿之星's certificate image
from the figures the row carries.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telegram import InputFile

from bot.domain.attachments import (
    Certificate,
    DataFile,
    HoursExport,
    MyData,
    QrCode,
    ReportChart,
    ReportFile,
    RosterExport,
    StarCertificate,
    from_payload,
)
from bot.i18n import I18n, Translate
from bot.views import charts
from bot.views.recognition import certificate_texts

RosterWriter = Callable[[Path], Awaitable[int]]  # writes the roster to a .csv or .xlsx path
LedgerWriter = Callable[[HoursExport | Certificate, Path], Awaitable[None]]  # the ledger's files
ReportWriter = Callable[[ReportFile | ReportChart, Path], Awaitable[None]]  # a report's workbook or chart
MyDataWriter = Callable[[MyData, Path], Awaitable[None]]  # a person's own data (JSON), read as it goes out
Translators = Callable[[str | None], Translate]  # a language's translator (I18n.translator)


def star_png(star: StarCertificate, translate: Translate, issuer: str = "") -> bytes:
    """The 志愿之星 certificate card (bot.views.charts), worded in the star's language."""
    month, rating = certificate_texts(translate, star)
    return charts.star_certificate(star.name, star.team, month, star.hours, star.services, rating, translate,
                                   issuer=issuer)


def qr_png(text: str) -> bytes:
    """``text`` as a QR code PNG, large enough to scan from a printed notice or a phone screen."""
    import segno  # only when a QR code is sent: not at start-up

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


class AttachmentRenderer:
    """Makes the file for an outbox row's attachment; without a roster writer, a roster export
    fails like any file that cannot be made (a failed attempt)."""

    def __init__(self, write_roster: RosterWriter | None = None, write_ledger: LedgerWriter | None = None,
                 write_report: ReportWriter | None = None, translators: Translators | None = None,
                 issuer: str = "", write_mydata: MyDataWriter | None = None) -> None:
        self.write_roster = write_roster
        self.write_ledger = write_ledger
        self.write_report = write_report
        self.translators = translators or I18n().translator
        self.issuer = issuer  # the centre's name, signing the certificates
        self.write_mydata = write_mydata

    async def render(self, payload: dict[str, Any]) -> tuple[str, InputFile]:
        """The request field and the file for an attachment description."""
        attachment = from_payload(payload)
        if isinstance(attachment, QrCode):
            return attachment.field, InputFile(qr_png(attachment.text), filename=attachment.filename)
        if isinstance(attachment, RosterExport):
            return attachment.field, await self._roster(attachment)
        if isinstance(attachment, DataFile):
            return attachment.field, InputFile(attachment.content.encode(), filename=attachment.filename)
        if isinstance(attachment, StarCertificate):
            # drawing takes a few tenths of a second of CPU: off the event loop
            image = await asyncio.to_thread(star_png, attachment, self.translators(attachment.language),
                                            self.issuer)
            return attachment.field, InputFile(image, filename=f"star-{attachment.month}.png")
        if isinstance(attachment, ReportFile | ReportChart):
            return attachment.field, await self._report(attachment)
        if isinstance(attachment, MyData):
            return attachment.field, await self._mydata(attachment)
        return attachment.field, await self._ledger(attachment)

    async def _report(self, report: ReportFile | ReportChart) -> InputFile:
        if self.write_report is None:
            raise ValueError("no report writer: this sender cannot make reports")
        name = (f"report-{report.start:%Y%m%d}-{report.end:%Y%m%d}"
                + (f"-{report.chart}.png" if isinstance(report, ReportChart) else ".xlsx"))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            await self.write_report(report, path)
            return InputFile(path.read_bytes(), filename=path.name)

    async def _mydata(self, attachment: MyData) -> InputFile:
        if self.write_mydata is None:
            raise ValueError("no data writer: this sender cannot make /mydata files")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "mydata.json"
            await self.write_mydata(attachment, path)
            return InputFile(path.read_bytes(), filename=path.name)

    async def _roster(self, export: RosterExport) -> InputFile:
        if self.write_roster is None:
            raise ValueError("no roster writer: this sender cannot export the roster")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"roster.{export.file_format}"
            await self.write_roster(path)
            return InputFile(path.read_bytes(), filename=path.name)

    async def _ledger(self, attachment: HoursExport | Certificate) -> InputFile:
        if self.write_ledger is None:
            raise ValueError("no ledger writer: this sender cannot make hours files")
        name = (f"service-hours-{attachment.month}.{attachment.file_format}" if isinstance(attachment, HoursExport)
                else f"certificate-{attachment.start:%Y%m%d}-{attachment.end:%Y%m%d}.pdf")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            await self.write_ledger(attachment, path)
            return InputFile(path.read_bytes(), filename=path.name)
