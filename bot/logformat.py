"""The ``[logging]`` settings applied (``volunteer-loop`` sets them up at start): the level, and
plain text or one JSON object per line for a log collector.

Records are scrubbed of personal data as they are made (:func:`bot.logsafety.protect_logs`), so
either format writes what the scrubber left: a JSON line's message and exception are the scrubbed
ones (the exception is the scrubbed ``exc_text``; ``exc_info`` is emptied by then).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from bot.settings import LoggingSettings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, and ``exception`` (the traceback) or ``stack`` when the record has one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:  # a record made before the scrubber was installed
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


def apply_logging(settings: LoggingSettings, logger: logging.Logger | None = None) -> None:
    """Set ``logger``'s (the root's) level and its handlers' format from ``settings``. httpx stays at
    WARNING whatever the level: its INFO lines carry the bot token in URLs."""
    target = logger or logging.getLogger()
    target.setLevel(settings.level)
    formatter = JsonFormatter() if settings.format == "json" else logging.Formatter(TEXT_FORMAT)
    for handler in target.handlers:
        handler.setFormatter(formatter)
    logging.getLogger("httpx").setLevel(logging.WARNING)
