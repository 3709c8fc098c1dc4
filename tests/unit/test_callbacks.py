"""Callback data stays small, opaque and parseable against each action's declared shape; anything
else is refused — and so are command arguments that are not the ids they claim to be."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.arguments import (
    DATABASE_ID_MAX,
    TELEGRAM_ID_MAX,
    Number,
    OneOf,
    Token,
    database_id,
    telegram_id,
)
from bot.views import callbacks as cb


def test_round_trip_gives_typed_values() -> None:
    data = cb.pack(cb.RATE, 1234567890, 5)
    assert data == "rate:1234567890:5"
    assert cb.unpack(data) == cb.Button("rate", (1234567890, 5))
    assert cb.unpack(cb.pack(cb.HOURS, 7, "0.5")) == cb.Button("hours", (7, "0.5"))
    assert cb.unpack(cb.pack(cb.CONFIRM, 7, "today")) == cb.Button("ok", (7, "today"))


@pytest.mark.parametrize("bad", ["", None, "x" * 65, "nope:1", "acc:1 OR 1=1", "acc:<b>", "acc:张三"])
def test_unknown_or_malformed_data_is_refused(bad: str | None) -> None:
    assert cb.unpack(bad) is None


@pytest.mark.parametrize("forged", [
    "way:9223372036854775808", "done:999999999999999999999999", "rate:2147483648:1", "acc:2147483648",
    "send:1:2147483648", "approve:18446744073709551616",  # beyond the database's INTEGER ids
    "cancel:1:5", "acc:1:1", "ok:1", "rate:1", "rate:1:5:5", "send:1",  # extra or missing parts
    "rate:1:6", "rate:1:-1", "acc:0", "acc:-1", "acc:+1", "acc:01", "acc:1.0", "acc:１２", "acc:١٢",  # not in range
    "when:yesterday", "lang:fr", "hours:1:100", "field:phone", "pick:nowhere:x", "profile:team",  # not one of ours
    "cat:维修", "cat:1:维修", "ok", "ok:0:today", "ok:1:someday", "when:today", "abort", "edit",  # a draft's
    "field:1:phone", "field:detail", "addr:0",  # number first, then a code of ours
    "cancel:", "cancel::", ":1", "acc: 1",
])
def test_forged_data_outside_its_shape_is_refused(forged: str) -> None:
    assert cb.unpack(forged) is None


def test_free_text_cannot_be_packed() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        cb.pack(cb.REJECT_REASON, 1, "13800138000 Room 5")
    with pytest.raises(ValueError, match="unknown action"):
        cb.pack("unknown", 1)


@pytest.mark.parametrize(("action", "args"), [
    (cb.ACCEPT, (2**31,)), (cb.ACCEPT, (0,)), (cb.CANCEL_ORDER, (1, 5)), (cb.RATE, (1,)), (cb.RATE, (1, 9)),
    (cb.WHEN, ("someday",)), (cb.CONFIRM, (1,)), (cb.CONFIRM, (1, "yesterday")), (cb.ABORT, ()),
])
def test_pack_holds_to_the_same_shapes(action: str, args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError, match="do not fit"):
        cb.pack(action, *args)


def test_largest_ids_fit_in_64_bytes() -> None:
    assert len(cb.pack(cb.DISPATCH, DATABASE_ID_MAX, DATABASE_ID_MAX).encode()) <= 64


def test_every_action_has_a_shape() -> None:
    assert set(cb.SHAPES) == cb.ACTIONS


@pytest.mark.parametrize(("text", "expected"), [
    ("12", 12), ("#12", 12), (str(DATABASE_ID_MAX), DATABASE_ID_MAX), (str(DATABASE_ID_MAX + 1), None),
    ("99999999999999999999", None), ("0", None), ("-3", None), ("１２", None), ("²", None), ("12a", None), ("", None),
])
def test_command_numbers_are_database_ids(text: str, expected: int | None) -> None:
    assert database_id(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("5551234", 5551234), (str(TELEGRAM_ID_MAX), TELEGRAM_ID_MAX), (str(TELEGRAM_ID_MAX + 1), None),
    ("0", None), ("#5", None), ("٥", None),
])
def test_command_user_ids_are_telegram_ids(text: str, expected: int | None) -> None:
    assert telegram_id(text) == expected


def _within_shape(button: cb.Button) -> bool:
    shape = cb.SHAPES[button.action]
    if len(shape) != len(button.args):
        return False
    for kind, value in zip(shape, button.args, strict=True):
        if isinstance(kind, Number):
            ok = isinstance(value, int) and kind.low <= value <= kind.high
        elif isinstance(kind, OneOf):
            ok = value in kind.codes
        else:
            ok = isinstance(kind, Token) and isinstance(value, str) and 1 <= len(value) <= 32 and value.isascii()
        if not ok:
            return False
    return True


_number_text = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str),
                         st.text(alphabet="0123456789０١²#+-. ", max_size=30))
_part = st.one_of(_number_text, st.sampled_from(["today", "0.5", "zh", "skills", "repair", ""]),
                  st.text(max_size=20))
_forged = st.builds(lambda action, parts: ":".join([action, *parts]),
                    st.one_of(st.sampled_from(sorted(cb.SHAPES)), st.text(max_size=6)),
                    st.lists(_part, max_size=4))


@settings(max_examples=300, deadline=None)
@given(st.one_of(_forged, st.text(max_size=80), st.binary(max_size=70).map(lambda b: b.decode("latin-1"))))
def test_unpack_never_raises_and_stays_within_the_shape(data: str) -> None:
    button = cb.unpack(data)
    assert button is None or _within_shape(button)
    if button is not None:  # what we accept is exactly what we could have made
        assert cb.pack(button.action, *button.args) == data


@pytest.mark.parametrize(("retired", "action"), [("d:7:3", cb.DISPATCH), ("rr:7:area", cb.REJECT_REASON),
                                                 ("h:7:1", cb.HOURS), ("pg:12:1", cb.PAGE), ("va:5", cb.APPROVE)])
def test_buttons_of_earlier_releases_still_read_as_what_they_meant(retired: str, action: str) -> None:
    button = cb.unpack(retired)
    assert button is not None and button.action == action
    assert cb.unpack(retired.replace(":", ":9999999999", 1)) is None  # and still within their shape
