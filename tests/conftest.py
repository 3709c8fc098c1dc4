"""Shared test set-up: PTB's timedelta-based RetryAfter (so reading it warns nothing)."""

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")

# The database fixtures (sqlite always; postgresql when TEST_DATABASE_URL is set), for every package.
from tests.dbfixtures import (  # noqa: E402, F401
    backend,
    bare_engine,
    clock,
    database_url,
    engine,
    sessions,
    uow_factory,
)
