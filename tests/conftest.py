"""Shared test set-up: a shell-free environment (no ``VLOOP_*`` variable of the caller's reaches the
settings), PTB's timedelta-based RetryAfter (so reading it warns nothing), and generated tests that
draw the same examples on every run."""

import os

from hypothesis import settings

# A run's result depends on the code alone: Hypothesis draws the same examples every time and keeps
# no example database between runs. Exploring further is the long runs' job (bench/fuzz.py); what
# they find becomes an explicit test.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.load_profile("repeatable")

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
