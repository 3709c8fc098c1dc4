"""A log stream behind the project's scrubber, as a test's capture or an operator's handler added
after start-up would be; everything the scrubber installed is taken away afterwards."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator

from bot.logsafety import ScrubPersonalData, protect_logs


@contextlib.contextmanager
def scrubbed_stream(logger_name: str, formatter: logging.Formatter | None = None) -> Iterator[io.StringIO]:
    """``protect_logs()`` installed, then a stream handler on ``logger_name`` (at DEBUG); the record
    factory and the root handlers' filters restored after."""
    factory = logging.getLogRecordFactory()
    protect_logs()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    if formatter is not None:
        handler.setFormatter(formatter)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(factory)
        for root_handler in logging.getLogger().handlers:
            for log_filter in [f for f in root_handler.filters if isinstance(f, ScrubPersonalData)]:
                root_handler.removeFilter(log_filter)
