"""Shared test set-up: a shell-free environment (no ``VLOOP_*`` variable of the caller's reaches the
settings) and PTB's timedelta-based RetryAfter (so reading it warns nothing)."""

import os

for _name in [name for name in os.environ if name.upper().startswith("VLOOP_")]:
    del os.environ[_name]
os.environ.setdefault("PTB_TIMEDELTA", "1")

# The database fixtures (sqlite always; postgresql when TEST_DATABASE_URL is set), for every package.
from tests.support.dbfixtures import (  # noqa: E402, F401
    backend,
    bare_engine,
    clock,
    database_url,
    engine,
    sessions,
    uow_factory,
)
