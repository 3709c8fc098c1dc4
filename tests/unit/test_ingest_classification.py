"""Which handler failures are worth retrying (bot.adapters.failures.is_transient), what a failure is called in
logs and parked rows (never its message), and which webhook bodies are updates at all."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.adapters.failures import is_transient
from bot.adapters.ingest import (
    describe_failure,
    kind_of,
    parse_body,
    retry_delay,
    update_id_of,
)


def _wrapped(error: BaseException) -> RuntimeError:
    try:
        raise RuntimeError("wrapper") from error
    except RuntimeError as wrapper:
        return wrapper


TRANSIENT = [
    OperationalError("SELECT 1", {}, Exception("unable to open database file")),
    OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked")),
    InterfaceError("SELECT 1", {}, Exception("connection is closed")),
    DBAPIError("SELECT 1", {}, Exception("lost"), connection_invalidated=True),
    PoolTimeout("QueuePool limit reached"),
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(),
    OSError(5, "I/O error"),
    TimeoutError(),
    TimeoutError(),
    NetworkError("httpx.ConnectError"),
    TimedOut(),
    RetryAfter(dt.timedelta(seconds=3)),
    _wrapped(ConnectionRefusedError()),
]
PERMANENT = [
    ValueError("bad"), KeyError("x"), TypeError(), AttributeError(), OverflowError(), AssertionError(),
    IntegrityError("INSERT", {}, Exception("unique")), DBAPIError("SELECT", {}, Exception("syntax")),
    BadRequest("Message is too long"), Forbidden("bot was blocked by the user"), RuntimeError("bug"),
]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
def test_passing_failures_are_retried(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", PERMANENT, ids=lambda e: type(e).__name__)
def test_bugs_are_not_retried(error: BaseException) -> None:
    assert not is_transient(error)


def test_an_error_raised_while_handling_another_is_judged_by_itself() -> None:
    """Only explicit wrapping (``raise … from``) passes transience on: a bug in an ``except OSError``
    block is still a bug (retrying it would hold the updates behind it forever)."""
    try:
        try:
            raise OSError("disk")
        except OSError:
            raise KeyError("bug") from None
    except KeyError as error:
        assert not is_transient(error)  # noqa: PT017 - the error is made here, with a context to ignore


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()))
def test_a_failure_is_described_without_its_message(text: str) -> None:
    marker = f"<{text}>"
    try:
        {}[marker]
    except KeyError as error:
        described = describe_failure(error)
    assert marker not in described
    assert described.startswith("KeyError at test_ingest_classification.py:") and described.endswith(
        "in test_a_failure_is_described_without_its_message")


def test_backoff_doubles_up_to_five_seconds() -> None:
    assert [retry_delay(n) for n in range(1, 8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert retry_delay(10_000) == 5.0


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_only_objects_with_a_valid_update_id_are_updates(value: object) -> None:
    parsed = parse_body(json.dumps(value).encode())
    valid = isinstance(value, dict) and type(value.get("update_id")) is int and 0 <= value["update_id"] < 2 ** 63
    assert (parsed == value) if valid else (parsed is None)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_are_judged_without_an_exception(body: bytes) -> None:
    parsed = parse_body(body)
    assert parsed is None or update_id_of(parsed) is not None


def test_kind_is_the_first_field_after_the_id() -> None:
    assert kind_of({"update_id": 1, "callback_query": {}}) == "callback_query"
    assert kind_of({"update_id": 1}) == "empty"
    assert kind_of({"update_id": 1, "x" * 50: 1}) == "x" * 32
