"""Files the outbox uploads, made at send time from the plain description a service queued
(:mod:`bot.domain.attachments`): a QR code becomes a PNG (segno), the roster export a CSV or XLSX
file written by the roster writer the composition root hands in (so the sender imports no service),
the hours export and the certificate likewise by the ledger writer.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telegram import InputFile

from bot.domain.attachments import Certificate, HoursExport, QrCode, ReportFile, RosterExport, from_payload

RosterWriter = Callable[[Path], Awaitable[int]]  # writes the roster to a .csv or .xlsx path
LedgerWriter = Callable[[HoursExport | Certificate, Path], Awaitable[None]]  # the ledger's files
ReportWriter = Callable[[ReportFile, Path], Awaitable[None]]  # a report's workbook


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
                 write_report: ReportWriter | None = None) -> None:
        self.write_roster = write_roster
        self.write_ledger = write_ledger
        self.write_report = write_report

    async def render(self, payload: dict[str, Any]) -> tuple[str, InputFile]:
        """The request field and the file for an attachment description."""
        attachment = from_payload(payload)
        if isinstance(attachment, QrCode):
            return attachment.field, InputFile(qr_png(attachment.text), filename=attachment.filename)
        if isinstance(attachment, RosterExport):
            return attachment.field, await self._roster(attachment)
        if isinstance(attachment, ReportFile):
            return attachment.field, await self._report(attachment)
        return attachment.field, await self._ledger(attachment)

    async def _report(self, report: ReportFile) -> InputFile:
        if self.write_report is None:
            raise ValueError("no report writer: this sender cannot make reports")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"report-{report.start:%Y%m%d}-{report.end:%Y%m%d}.xlsx"
            await self.write_report(report, path)
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
