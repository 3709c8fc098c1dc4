"""Phone numbers in one stored form: a shared contact, a typed number and a roster cell match."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.phones import national_form, normalise_phone


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                                 "+8613800138000", "8613800138000", "0086 13800138000", "(+86) 13800138000"[1:]])
def test_mainland_mobiles_in_every_spelling_are_one_number(raw: str) -> None:
    assert normalise_phone(raw) == "+8613800138000"


@pytest.mark.parametrize(("raw", "stored"), [("010-12345678", "01012345678"), ("+1 415 555 0100", "+14155550100"),
                                         ("12345", "12345"), ("+852 9123 4567", "+85291234567"),
                                         ("23800138000", "23800138000")])
def test_other_numbers_keep_their_digits(raw: str, stored: str) -> None:
    assert normalise_phone(raw) == stored


@pytest.mark.parametrize("raw", ["", "call me", "1234", "+86 138 0013 8000 ext 5", "1" * 17])
def test_what_is_not_a_phone_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_phone(raw)


def test_the_national_form_drops_only_the_mainland_prefix() -> None:
    assert national_form("+8613800138000") == "13800138000"
    assert national_form("+14155550100") == "+14155550100"
    assert national_form("01012345678") == "01012345678"
