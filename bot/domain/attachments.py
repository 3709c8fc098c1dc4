"""Files a message carries, described as plain data: services say *what* to attach ("the QR code
of this link", "the roster as CSV"); the file itself is made when the message goes out, next to the
sender (:mod:`bot.adapters.attachments`), so an outbox row stays small JSON with nothing personal.

The JSON is ``{"kind": "qr", "text": link, "filename": "team-x.png", "field": "photo"}`` or
``{"kind": "roster", "format": "xlsx", "field": "document"}``; rows already queued keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROSTER_FORMATS = ("csv", "xlsx")


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


Attachment = QrCode | RosterExport


def to_payload(attachment: Attachment) -> dict[str, Any]:
    """The JSON an outbox row keeps for ``attachment``."""
    if isinstance(attachment, QrCode):
        return {"kind": "qr", "text": attachment.text, "filename": attachment.filename, "field": attachment.field}
    return {"kind": "roster", "format": attachment.file_format, "field": attachment.field}


def from_payload(payload: dict[str, Any]) -> Attachment:
    """The attachment an outbox row describes; ValueError for anything we did not write."""
    kind = payload.get("kind")
    if kind == "qr" and isinstance(payload.get("text"), str):
        return QrCode(payload["text"], str(payload.get("filename") or "qr.png"))
    if kind == "roster":
        return RosterExport(str(payload.get("format")))
    raise ValueError(f"unknown attachment {kind!r}")
