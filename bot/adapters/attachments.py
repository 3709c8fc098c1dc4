"""Files the outbox uploads, made at send time from a small description in the row's payload.

An outbox row stays small JSON: ``{"attachment": {"kind": "qr", "text": link, "field": "photo"}}``
becomes a PNG, ``{"kind": "roster", "format": "xlsx", "field": "document"}`` the roster as it is
when the message goes out. Nothing personal is kept in the row itself.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram import InputFile

from bot.domain.links import qr_png
from bot.services.roster import export_roster
from storage.uow import UnitOfWork

KINDS = ("qr", "roster")
ROSTER_FORMATS = ("csv", "xlsx")


def qr(text: str, filename: str) -> dict[str, Any]:
    return {"kind": "qr", "text": text, "filename": filename, "field": "photo"}


def roster(file_format: str) -> dict[str, Any]:
    if file_format not in ROSTER_FORMATS:
        raise ValueError(f"roster format must be one of {ROSTER_FORMATS}")
    return {"kind": "roster", "format": file_format, "field": "document"}


async def render(spec: dict[str, Any], uow_factory: Callable[[], UnitOfWork]) -> tuple[str, InputFile]:
    """The request field and the file for an attachment description."""
    kind, field = spec.get("kind"), str(spec.get("field"))
    if kind == "qr":
        return field, InputFile(qr_png(str(spec["text"])), filename=str(spec.get("filename") or "qr.png"))
    if kind == "roster" and spec.get("format") in ROSTER_FORMATS:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"roster.{spec['format']}"
            await export_roster(uow_factory, path)
            return field, InputFile(path.read_bytes(), filename=path.name)
    raise ValueError(f"unknown attachment {kind!r}")
