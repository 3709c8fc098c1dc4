"""Keep personal data out of log lines.

Some libraries log what passes through them below WARNING: python-telegram-bot logs request
parameters (``Calling Bot API endpoint … with parameters``), whole updates and webhook bodies;
SQLAlchemy and aiosqlite log SQL parameters. Those may hold a resident's phone number or address,
so records below WARNING from these loggers are dropped, whatever level an operator turns on.
Our own modules log ids, never message text.

What does get through — at any level, CRITICAL included — is scrubbed as it is made
(:func:`scrub_record`, installed as the log record factory by :func:`protect_logs`): phone numbers
are masked (:func:`bot.domain.redact.mask_phones`) in the message, its arguments, an exception's
text and traceback (the whole chain) and the stack; the values a database puts in its errors
(PostgreSQL's ``DETAIL:  Key (phone)=(…)``, ``Failing row contains (name, phone, address …)``,
SQLAlchemy's ``[parameters: …]`` when an engine shows them) are cut out, since names and addresses
have no pattern to find them by. Numbers among the arguments (ids, counts, chat ids) stay as they
are: they are what makes a line useful, and no personal data is passed as a number.
"""

from __future__ import annotations

import logging
import numbers
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from bot.domain.redact import mask_phones

CHATTY_LOGGERS = (
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "aiosqlite",
    "sqlalchemy.engine",
    "sqlalchemy.engine.Engine",
    "sqlalchemy.pool",
    "asyncpg",
)


class WarningsOnly(logging.Filter):
    """Lets through warnings and errors (which carry no payloads) and nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def protect_logs() -> None:
    """Install :class:`WarningsOnly` on every chatty library logger and scrub every record (once)."""
    scrub_all_records()
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WarningsOnly) for f in logger.filters):
            logger.addFilter(WarningsOnly())


HIDDEN = "(hidden)"
_DATABASE_VALUES = [
    # PostgreSQL's error details name the offending values: "Key (phone)=(+86…) already exists",
    # "Failing row contains (3, Ximena, +86…, …)"; its DETAIL line is cut whole.
    (re.compile(r"(DETAIL:)[^\n]*"), r"\1 " + HIDDEN),
    (re.compile(r"(Failing row contains )\(.*?\)(?=\.?(?:$|\n))", re.MULTILINE), r"\1" + HIDDEN),
    (re.compile(r"(Key \([^)\n]*\)=)\([^\n]*?\)(?= |\.|$)", re.MULTILINE), r"\1" + HIDDEN),
    # SQLAlchemy's statement errors of an engine without hide_parameters.
    (re.compile(r"\[parameters: [^\n]*"), "[parameters " + HIDDEN + "]"),
]


def scrub_text(text: str) -> str:
    """``text`` fit for a log: database values cut out, phone numbers masked."""
    for pattern, replacement in _DATABASE_VALUES:
        text = pattern.sub(replacement, text)
    return mask_phones(text)


def _scrubbed_argument(value: object) -> object:
    if isinstance(value, numbers.Number) or value is None:
        return value
    try:
        return scrub_text(str(value))
    except Exception:  # noqa: BLE001 - an argument that cannot be shown is not shown
        return "?"


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Make ``record`` safe in place (see the module's docstring): its message is formatted now from
    scrubbed arguments and frozen (``args`` emptied); an exception becomes its scrubbed traceback in
    ``exc_text`` (``exc_info`` emptied, so no handler formats the raw one); the stack likewise.
    A record that cannot be scrubbed is withheld rather than passed on."""
    if getattr(record, "scrubbed", False):
        return record
    record.scrubbed = True
    try:
        message = scrub_text(str(record.msg))
        if isinstance(record.args, Mapping):
            message = message % {key: _scrubbed_argument(value) for key, value in record.args.items()}
        elif record.args:
            message = message % tuple(_scrubbed_argument(value) for value in record.args)
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = scrub_text("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        elif record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info)
    except Exception:  # noqa: BLE001 - logging must go on; a record we cannot read is not shown
        record.msg, record.args, record.exc_info, record.exc_text, record.stack_info = (
            "(a log record was withheld: it could not be checked for personal data)", None, None, None, None)
    return record


class ScrubPersonalData(logging.Filter):
    """:func:`scrub_record` as a filter, for handlers whose records may come from elsewhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def _scrubbing_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub_record(make(*args, **kwargs))

    factory.scrubs = True  # type: ignore[attr-defined]
    return factory


def scrub_all_records() -> None:
    """Scrub every log record of the process as it is made, whatever logger and handler (once):
    a record factory sees them all, those of handlers added later (a test's capture) included;
    the root's handlers get :class:`ScrubPersonalData` too, for records made by another factory."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "scrubs", False):
        logging.setLogRecordFactory(_scrubbing_factory(current))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ScrubPersonalData) for f in handler.filters):
            handler.addFilter(ScrubPersonalData())
