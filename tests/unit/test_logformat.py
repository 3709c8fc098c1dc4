"""``[logging]``: the level and the JSON-lines format (bot.logformat). A JSON line is one object with
time, level, logger, message and exception, and it is scrubbed like a text line: a phone number in a
message, an argument or a traceback comes out masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logformat import TEXT_FORMAT, JsonFormatter, apply_logging
from bot.settings import LoggingSettings
from tests.support.logs import scrubbed_stream

PHONE = "+86 138 0013 8000"
DIGITS = "13800138000"
LOGGER = "tests.logformat"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    with scrubbed_stream(LOGGER, JsonFormatter()) as stream:
        yield stream


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_has_time_level_logger_and_message(json_lines: io.StringIO) -> None:
    logging.getLogger(LOGGER).warning("order %s dispatched to %s", 12, "维修队")
    [line] = lines(json_lines)
    assert line["level"] == "WARNING" and line["logger"] == LOGGER
    assert line["message"] == "order 12 dispatched to 维修队"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert "exception" not in line


def test_a_phone_number_is_masked_in_json_lines_too(json_lines: io.StringIO) -> None:
    log = logging.getLogger(LOGGER)
    log.info(f"typed in the message: {PHONE}")
    log.info("in an argument: %s", f"call me on {DIGITS}")
    try:
        raise RuntimeError(f"could not save the request of {PHONE}")
    except RuntimeError:
        log.exception("with a traceback")
    text = json_lines.getvalue()
    assert DIGITS not in text and "138 0013 8000" not in text and "0013" not in text, text
    messages = lines(json_lines)
    assert len(messages) == 3
    assert "RuntimeError" in messages[2]["exception"] and "Traceback" in messages[2]["exception"]


def test_every_record_is_one_line(json_lines: io.StringIO) -> None:
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        logging.getLogger(LOGGER).error("a message\nover two lines", exc_info=True)
    [line] = lines(json_lines)  # the newlines are escaped inside the one object
    assert line["message"] == "a message\nover two lines" and "second line" in line["exception"]


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own with one stream handler, so the root's set-up is left alone."""
    target = logging.getLogger("tests.logformat.applied")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    target.addHandler(handler)
    target.propagate = False
    try:
        yield target, stream
    finally:
        target.removeHandler(handler)
        target.propagate = True
        target.setLevel(logging.NOTSET)


def test_apply_logging_sets_level_and_json(logger: tuple[logging.Logger, io.StringIO]) -> None:
    target, stream = logger
    apply_logging(LoggingSettings(level="warning", format="json"), target)
    target.info("not shown")
    target.warning("shown")
    [line] = lines(stream)
    assert line["message"] == "shown" and line["level"] == "WARNING"
    assert logging.getLogger("httpx").level == logging.WARNING  # its INFO lines carry the token


def test_apply_logging_text_is_the_default(logger: tuple[logging.Logger, io.StringIO]) -> None:
    target, stream = logger
    apply_logging(LoggingSettings(level="DEBUG"), target)
    target.debug("a debug line")
    assert stream.getvalue().rstrip().endswith(f"DEBUG {target.name}: a debug line")
    assert target.handlers[0].formatter is not None and target.handlers[0].formatter._fmt == TEXT_FORMAT


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="level"):
        LoggingSettings(level="LOUD")  # type: ignore[arg-type]
