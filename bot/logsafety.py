"""Keep personal data out of log lines.

Some libraries log what passes through them below WARNING: python-telegram-bot logs request
parameters (``Calling Bot API endpoint … with parameters``), whole updates and webhook bodies;
SQLAlchemy and aiosqlite log SQL parameters. Those may hold a resident's phone number or address,
so records below WARNING from these loggers are dropped, whatever level an operator turns on.
Our own modules log ids, never message text.
"""

from __future__ import annotations

import logging

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
    """Install :class:`WarningsOnly` on every chatty library logger (once)."""
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WarningsOnly) for f in logger.filters):
            logger.addFilter(WarningsOnly())
