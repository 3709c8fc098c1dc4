"""No log line carries a phone number, a name or an address, at any level, CRITICAL included: the
message, its arguments, an exception's traceback (its whole chain) and the stack are scrubbed as the
record is made (bot.logsafety), whatever logger and whichever handler writes it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.logsafety import HIDDEN, scrub_record, scrub_text
from tests.support.logs import scrubbed_stream

PHONE = "+86 138 0013 8000"
DIGITS = "13800138000"
NAME, ADDRESS = "Ximenaqwv", "紫荆苑QX7731栋"
LEVELS = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]


@pytest.fixture
def protected() -> Iterator[io.StringIO]:
    """protect_logs() installed, and a stream handler on a fresh logger added afterwards (as a
    test's capture or an operator's file handler would be); the record factory restored after."""
    with scrubbed_stream("tests.logsafety", logging.Formatter("%(levelname)s %(name)s: %(message)s")) as stream:
        yield stream


def _raise_chained() -> None:
    """An error whose cause carries a database's detail with the resident's row (as asyncpg's does)."""
    try:
        raise ValueError(f'null value in column "status"\nDETAIL:  Failing row contains (3, {NAME}, {PHONE}, '
                         f'{ADDRESS}, null).')
    except ValueError as cause:
        raise RuntimeError(f"could not save the request of {PHONE}") from cause


@pytest.mark.parametrize("level", LEVELS, ids=logging.getLevelName)
def test_every_level_is_scrubbed(protected: io.StringIO, level: int) -> None:
    log = logging.getLogger("tests.logsafety")
    log.log(level, f"typed in the message: {PHONE}")
    log.log(level, "in an argument: %s, chat %s, row %d", f"call me on {PHONE}", -1001234567890123, 12345678)
    log.log(level, "in a mapping: %(phone)s", {"phone": DIGITS})
    try:
        _raise_chained()
    except RuntimeError:
        log.log(level, "with a traceback", exc_info=True)
    log.log(level, "with the stack", stack_info=True)
    written = protected.getvalue()
    assert written.count(logging.getLevelName(level)) >= 5
    for secret in (DIGITS, "138 0013 8000", NAME, ADDRESS):
        assert secret not in written, written
    # What makes the lines useful stays: the numbers passed as numbers, the error's types and lines.
    assert "chat -1001234567890123, row 12345678" in written
    assert "RuntimeError: could not save the request of ***" in written
    assert "ValueError" in written and f"DETAIL: {HIDDEN}" in written and "_raise_chained" in written


def test_a_record_to_a_handler_added_after_start_up_is_scrubbed_once(protected: io.StringIO,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="tests.logsafety")
    logging.getLogger("tests.logsafety").critical("resident %s at %s", PHONE, "home")
    (record,) = [r for r in caplog.records if r.name == "tests.logsafety"]
    assert record.getMessage() == "resident *** at home" and record.args is None and record.exc_info is None
    assert scrub_record(record) is record and record.getMessage() == "resident *** at home"


def test_database_details_are_cut_out() -> None:
    assert scrub_text(f"DETAIL:  Key (phone)=({PHONE}) already exists.") == f"DETAIL: {HIDDEN}"
    assert scrub_text(f"duplicate key\nKey (contact_name)=({NAME}) already exists.") == \
        f"duplicate key\nKey (contact_name)={HIDDEN} already exists."
    assert scrub_text(f"Failing row contains (1, {NAME}, {ADDRESS}).") == f"Failing row contains {HIDDEN}."
    assert scrub_text(f"[SQL: INSERT INTO users VALUES (?, ?)]\n[parameters: ('{NAME}', '{ADDRESS}')]\n(x)") == \
        f"[SQL: INSERT INTO users VALUES (?, ?)]\n[parameters {HIDDEN}]\n(x)"


def test_a_record_that_cannot_be_formatted_is_withheld() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "%d items for %s", (PHONE, "x"), None)
    assert DIGITS not in scrub_record(record).getMessage() and "withheld" in record.getMessage()


@given(st.lists(st.sampled_from(["", " ", "-", "."]), min_size=10, max_size=10),
       st.sampled_from(LEVELS), st.booleans())
def test_no_mobile_number_survives_however_it_is_written(separators: list[str], level: int, in_error: bool) -> None:
    number = "13912345678"
    written = number[0] + "".join(sep + digit for sep, digit in zip(separators, number[1:], strict=True))
    error = ValueError(f"bad input {written}") if in_error else None
    record = logging.LogRecord("x", level, __file__, 1, "%s|%s", (written, 7),
                               (ValueError, error, None) if error else None)
    scrub_record(record)
    shown = record.getMessage() + (record.exc_text or "")
    assert number not in "".join(c for c in shown if c.isdigit()), shown
