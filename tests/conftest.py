"""Shared test set-up: PTB's timedelta-based RetryAfter (so reading it warns nothing)."""

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")
