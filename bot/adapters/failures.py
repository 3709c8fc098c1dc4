"""Which failures pass: the database unreachable, locked or disconnected, a timeout, a network
error. Receiving updates retries them (``bot.adapters.ingest``); the background loops (the outbox sender,
the schedule sweep) try again on their next round and log one line instead of a traceback, so an
outage of a few seconds does not bury the log."""

from __future__ import annotations

import logging

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram.error import BadRequest, NetworkError, RetryAfter

_TRANSIENT = (OSError, TimeoutError, OperationalError, InterfaceError, DisconnectionError, PoolTimeout, RetryAfter)


def is_transient(error: BaseException) -> bool:
    """Whether trying again later can succeed: the database unreachable, locked or disconnected,
    a timeout, a network error. Explicitly wrapped causes (``raise … from``) count too."""
    current: BaseException | None = error
    for _ in range(8):
        if current is None:
            return False
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, NetworkError) and not isinstance(current, BadRequest):
            return True
        current = current.__cause__
    return False


def log_failure(log: logging.Logger, error: BaseException, message: str, *args: object) -> None:
    """``message`` with the error: one warning line for a passing failure (its type only), the
    traceback for anything else."""
    if is_transient(error):
        log.warning(message + " (%s; tried again)", *args, type(error).__name__)
    else:
        log.error(message, *args, exc_info=error)
