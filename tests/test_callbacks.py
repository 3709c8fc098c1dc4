"""Callback data stays small, opaque and parseable; anything else is refused."""

from __future__ import annotations

import pytest

from bot import callbacks as cb


def test_round_trip() -> None:
    data = cb.pack(cb.RATE, 123456789012, 5)
    assert data == "rate:123456789012:5"
    assert cb.unpack(data) == cb.Button("rate", ("123456789012", "5"))


@pytest.mark.parametrize("bad", ["", None, "x" * 65, "nope:1", "acc:1 OR 1=1", "acc:<b>", "acc:张三"])
def test_unknown_or_malformed_data_is_refused(bad: str | None) -> None:
    assert cb.unpack(bad) is None


def test_free_text_cannot_be_packed() -> None:
    with pytest.raises(ValueError):
        cb.pack(cb.REJECT_REASON, 1, "13800138000 Room 5")
    with pytest.raises(ValueError):
        cb.pack("unknown", 1)


def test_largest_ids_fit_in_64_bytes() -> None:
    assert len(cb.pack(cb.DISPATCH, 2**63 - 1, 2**63 - 1).encode()) <= 64
