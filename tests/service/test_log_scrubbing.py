"""A real integrity error from the database, with a resident's name, phone and address among its
parameters, logged at CRITICAL with its traceback and as an argument: the log line names none of
them, on SQLite and PostgreSQL. The same error from an engine that shows its parameters (and from
PostgreSQL's ``DETAIL:  Failing row contains (…)``) is the positive control: unscrubbed, it would leak."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.logs import scrubbed_stream

NAME, PHONE, BUILDING, ROOM = "Ximenaqwv", "+8613912345678", "紫荆苑QX7731栋", "ZK5529室"
NEEDLES = (NAME, "13912345678", "QX7731", "ZK5529")
# An order without its status (NOT NULL): refused by the database, its other values named in the error.
BAD_ORDER = text("INSERT INTO orders (status, category, community, building, address_detail, when_text, "
                 "contact_name, contact_phone, description, urgent, round, created_at, updated_at) "
                 "VALUES (NULL, 'repair', 'Sunshine', :building, :room, 'today', :name, :phone, '', false, 1, "
                 "'2026-01-15 09:30:00', '2026-01-15 09:30:00')")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    with scrubbed_stream("tests.scrubbing") as stream:
        yield stream


async def _refused(engine: AsyncEngine) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught:
        async with engine.begin() as connection:
            await connection.execute(BAD_ORDER, {"name": NAME, "phone": PHONE, "building": BUILDING, "room": ROOM})
    return caught.value


def _leaks(written: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in written]


async def test_an_integrity_error_with_personal_parameters_is_logged_without_them(
        engine: AsyncEngine, backend: str, log_stream: io.StringIO) -> None:
    showing = create_async_engine(engine.url, hide_parameters=False)  # an engine that is not ours
    try:
        errors = [await _refused(engine), await _refused(showing)]
    finally:
        await showing.dispose()
    raw = ["".join(traceback.format_exception(error)) for error in errors]
    # Positive control: unscrubbed, the parameters (and PostgreSQL's failing row) are there.
    assert sorted(_leaks(raw[1])) == sorted(NEEDLES)
    if backend == "postgresql":
        assert "Failing row contains" in raw[0] and sorted(_leaks(raw[0])) == sorted(NEEDLES)
    log = logging.getLogger("tests.scrubbing")
    for error in errors:
        for level in (logging.DEBUG, logging.WARNING, logging.CRITICAL):
            log.log(level, "saving the order failed: %s", error, exc_info=error)
            log.log(level, "saving the order failed: %r", error)
    written = log_stream.getvalue()
    assert written.count("sqlalchemy.exc.IntegrityError") == 6 and "orders" in written  # what the operator needs stays
    assert _leaks(written) == [], written
