"""Where a person's identifiers are still stored: every column of every table of the schema (the
models' metadata, so a table added later is scanned too), JSON as its text, case ignored (reached
households are keyed in lower case), separators too (a phone is shown grouped)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Base

SEPARATORS = re.compile(r"[\s\-.()/]")


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


async def stored_mentions(connection: AsyncConnection, needles: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for each needle found in a stored value; [] when none is."""
    wanted = [needle.lower() for needle in needles]
    found: set[tuple[str, str, str]] = set()
    for table in Base.metadata.sorted_tables:
        for row in (await connection.execute(select(table))).mappings():
            for column, value in row.items():
                text = _text(value).lower()
                squeezed = SEPARATORS.sub("", text)  # a phone shown as "139 1234 5678" is still that phone
                found.update((table.name, column, needle) for needle in wanted
                             if needle in text or needle in squeezed)
    return sorted(found)

