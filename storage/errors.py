"""What storage tells its callers instead of SQLAlchemy's exceptions: services react to these
(and never import ``sqlalchemy.exc``), so the judgement of a database error lives here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError


class AlreadyTaken(Exception):
    """A unique value (a registry number, a membership) was taken by another writer since it was
    checked: the write was refused, and the transaction must be rolled back (or its savepoint)."""


@contextmanager
def taken_if_not_unique() -> Iterator[None]:
    """Turn a constraint violation in the block into :class:`AlreadyTaken`."""
    try:
        yield
    except IntegrityError as error:
        raise AlreadyTaken(type(error.orig).__name__) from error


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means the database connection itself is gone (so is the transaction:
    nothing done in it can commit)."""
    return isinstance(error, DBAPIError) and error.connection_invalidated
