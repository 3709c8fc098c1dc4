"""Files a message carries, described as plain data: services say *what* to attach ("the QR code
of this link", "the roster as CSV", "the hours of November", "Vera's certificate for 2026"); the
file itself is made when the message goes out, next to the sender (:mod:`bot.adapters.attachments`),
so an outbox row stays small JSON with nothing personal (ids and dates only) — but for a star's
certificate image, which carries the star's own name and month, in a row only to the star.

The JSON is ``{"kind": "qr", "text": link, "filename": "team-x.png", "field": "photo"}``,
``{"kind": "roster", "format": "xlsx", "field": "document"}``, ``{"kind": "hours", "month":
"2026-11", "format": "xlsx", ...}`` or ``{"kind": "certificate", "user": 7, "start": "2026-01-01",
"end": "2026-12-31", ...}`` or ``{"kind": "mydata", "user": 7, "language": "en"}`` (a person's
own data, made from the database as it goes out) or
``{"kind": "star", "name": …, "team": …, "month": "2026-11", "hours": 12.5,
"services": 9, "satisfied": 4, "rated": 5, "language": "zh"}`` (a 志愿之星's certificate image: the
figures of their month, sent only to the star's own private chat); rows already queued keep working.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

ROSTER_FORMATS = ("csv", "xlsx")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class QrCode:
    """A photo: ``text`` (a join link) as a QR code."""

    text: str
    filename: str = "qr.png"
    field = "photo"


@dataclass(frozen=True)
class RosterExport:
    """A document: the roster as it is when the message goes out."""

    file_format: str
    field = "document"

    def __post_init__(self) -> None:
        if self.file_format not in ROSTER_FORMATS:
            raise ValueError(f"roster format must be one of {ROSTER_FORMATS}")


@dataclass(frozen=True)
class HoursExport:
    """A document: the service records of ``month`` (YYYY-MM) for the national registry."""

    month: str
    file_format: str = "xlsx"
    field = "document"

    def __post_init__(self) -> None:
        if not MONTH.match(self.month) or self.file_format not in ROSTER_FORMATS:
            raise ValueError("hours export needs a YYYY-MM month and csv or xlsx")


@dataclass(frozen=True)
class Certificate:
    """A document: the service-record certificate (PDF) of person ``user_id`` for the days
    ``start`` to ``end`` (inclusive, in the centre's time zone)."""

    user_id: int
    start: dt.date
    end: dt.date
    field = "document"


@dataclass(frozen=True)
class StarCertificate:
    """A photo: the 志愿之星 certificate image of a volunteer's month — their name in their team,
    hours served, services (completed orders and attended activities) and ratings (``satisfied``
    of ``rated``), labelled in ``language``. The figures travel as data because they are the
    month's as approved (a later correction does not change a certificate already announced)."""

    name: str
    team: str
    month: str  # YYYY-MM
    hours: float
    services: int
    satisfied: int
    rated: int
    language: str = "zh"
    field = "photo"

    def __post_init__(self) -> None:
        if not MONTH.match(self.month):
            raise ValueError("a star certificate needs a YYYY-MM month")


@dataclass(frozen=True)
class ReportFile:
    """A document: the report (XLSX, docs/measures.md) of the local days ``start`` to ``end``
    (exclusive) for a place: ``scope`` district | community | building | team and its ``key`` (a
    community's name or a code; nothing personal)."""

    start: dt.date
    end: dt.date
    scope: str = "district"
    key: str = ""
    field = "document"


CHARTS = ("months", "teams")  # the report's charts: the rates month by month, the teams side by side


@dataclass(frozen=True)
class ReportChart:
    """A photo: a chart of the report of ``start`` to ``end`` for a place (as :class:`ReportFile`),
    ``chart`` one of :data:`CHARTS`, labelled in ``language`` (docs/charts.md)."""

    start: dt.date
    end: dt.date
    scope: str = "district"
    key: str = ""
    chart: str = "months"
    language: str = "zh"
    field = "photo"

    def __post_init__(self) -> None:
        if self.chart not in CHARTS:
            raise ValueError(f"unknown chart {self.chart!r}")


@dataclass(frozen=True)
class DataFile:
    """A document whose content travels in the row itself: small plain text with nothing personal in
    it (an order's history as exported for coordinators, bot.services.history)."""

    filename: str
    content: str
    field = "document"


@dataclass(frozen=True)
class MyData:
    """A document: everything stored about person ``user_id`` (``/mydata``), as JSON, read from the
    database when the message goes out (so the row holds an id, never the data), labelled in
    ``language``."""

    user_id: int
    language: str = "zh"
    field = "document"


Attachment = (MyData | QrCode | RosterExport | HoursExport | Certificate | StarCertificate | ReportFile
              | ReportChart | DataFile)


def to_payload(attachment: Attachment) -> dict[str, Any]:
    """The JSON an outbox row keeps for ``attachment``."""
    if isinstance(attachment, QrCode):
        return {"kind": "qr", "text": attachment.text, "filename": attachment.filename, "field": attachment.field}
    if isinstance(attachment, HoursExport):
        return {"kind": "hours", "month": attachment.month, "format": attachment.file_format,
                "field": attachment.field}
    if isinstance(attachment, ReportFile):
        return {"kind": "report", "start": attachment.start.isoformat(), "end": attachment.end.isoformat(),
                "scope": attachment.scope, "key": attachment.key, "field": attachment.field}
    if isinstance(attachment, ReportChart):
        return {"kind": "chart", "start": attachment.start.isoformat(), "end": attachment.end.isoformat(),
                "scope": attachment.scope, "key": attachment.key, "chart": attachment.chart,
                "language": attachment.language, "field": attachment.field}
    if isinstance(attachment, Certificate):
        return {"kind": "certificate", "user": attachment.user_id, "start": attachment.start.isoformat(),
                "end": attachment.end.isoformat(), "field": attachment.field}
    if isinstance(attachment, DataFile):
        return {"kind": "data", "filename": attachment.filename, "content": attachment.content,
                "field": attachment.field}
    if isinstance(attachment, MyData):
        return {"kind": "mydata", "user": attachment.user_id, "language": attachment.language,
                "field": attachment.field}
    if isinstance(attachment, StarCertificate):
        return {"kind": "star", "name": attachment.name, "team": attachment.team, "month": attachment.month,
                "hours": attachment.hours, "services": attachment.services, "satisfied": attachment.satisfied,
                "rated": attachment.rated, "language": attachment.language, "field": attachment.field}
    return {"kind": "roster", "format": attachment.file_format, "field": attachment.field}


def from_payload(payload: dict[str, Any]) -> Attachment:
    """The attachment an outbox row describes; ValueError for anything we did not write."""
    kind = payload.get("kind")
    if kind == "qr" and isinstance(payload.get("text"), str):
        return QrCode(payload["text"], str(payload.get("filename") or "qr.png"))
    if kind == "roster":
        return RosterExport(str(payload.get("format")))
    if kind == "hours":
        return HoursExport(str(payload.get("month")), str(payload.get("format")))
    if kind == "certificate" and isinstance(payload.get("user"), int):
        return Certificate(payload["user"], dt.date.fromisoformat(str(payload.get("start"))),
                           dt.date.fromisoformat(str(payload.get("end"))))
    if kind == "data" and isinstance(payload.get("filename"), str) and isinstance(payload.get("content"), str):
        return DataFile(payload["filename"], payload["content"])
    if kind == "mydata" and isinstance(payload.get("user"), int):
        return MyData(payload["user"], str(payload.get("language") or "zh"))
    if kind == "star":
        return StarCertificate(str(payload.get("name", "")), str(payload.get("team", "")), str(payload.get("month")),
                               float(payload.get("hours", 0)), int(payload.get("services", 0)),
                               int(payload.get("satisfied", 0)), int(payload.get("rated", 0)),
                               str(payload.get("language") or "zh"))
    if kind == "report" and payload.get("scope") in ("district", "community", "building", "team"):
        return ReportFile(dt.date.fromisoformat(str(payload.get("start"))), dt.date.fromisoformat(
            str(payload.get("end"))), str(payload["scope"]), str(payload.get("key") or ""))
    if kind == "chart" and payload.get("scope") in ("district", "community", "building", "team"):
        return ReportChart(dt.date.fromisoformat(str(payload.get("start"))), dt.date.fromisoformat(
            str(payload.get("end"))), str(payload["scope"]), str(payload.get("key") or ""),
            str(payload.get("chart")), str(payload.get("language") or "zh"))
    raise ValueError(f"unknown attachment {kind!r}")
