"""Plural forms: a message where a number precedes a noun reads "1 minute" and "2 minutes" in
English (one form in Chinese), and no message of the catalog puts a number before a plural noun
without being a plural entry (``P_``)."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import P_, I18n, Plural, extract_messages

I18N = I18n()
EXTRACTED = [m for m in extract_messages() if m.id]
PLURALS = sorted((str(m.id[0]), str(m.id[1])) for m in EXTRACTED if m.pluralizable)
SINGLES = sorted(str(m.id) for m in EXTRACTED if not m.pluralizable)

# Nouns counted in the messages, as they follow a number in English (a unit like "h" does not change).
COUNTED = ("minutes", "hours", "days", "weeks", "months", "years", "requests", "orders", "volunteers", "points",
           "households", "members", "rows", "times", "activities", "places", "people", "teams", "groups",
           "entries", "codes", "files", "messages", "residents", "services", "businesses", "buildings")
# Placeholders that hold a name, never a number ("{team} team", "{building} can place").
NAMES = {"team", "name", "building", "business", "title", "place", "file", "skill", "category", "community",
         "month", "volunteer", "coordinator", "reason", "code", "time", "when", "column", "verdict", "status"}
# a number and its noun stand on one line ("{home}\nRequests you placed" is two facts, not a count)
NUMBER_THEN_NOUN = re.compile(r"\{(\w+)\}[ \t]+(?:(?:\w+|more|honour|team)[ \t]+)?(" + "|".join(COUNTED) + r")\b")


def fill(message: str, count_name: str, count: int) -> dict[str, object]:
    names = {name for _, name, _, _ in string.Formatter().parse(message) if name}
    return {**dict.fromkeys(names, "X"), count_name: count}


def count_name(singular: str, plural: str) -> str:
    """The placeholder whose number chooses the form: the one just before the word that changes."""
    one, many = singular.split(), plural.split()
    changed = next(i for i, (a, b) in enumerate(zip(one, many, strict=False)) if a != b)
    before = [w for w in many[:changed + 1] if re.fullmatch(r"\{\w+\}", w)]
    return before[-1][1:-1]


@pytest.mark.parametrize(("singular", "plural"), PLURALS)
def test_english_says_1_minute_and_2_minutes(singular: str, plural: str) -> None:
    name = count_name(singular, plural)
    message = Plural(singular, plural, name)
    assert I18N.gettext("en", message, **fill(singular, name, 1)) == singular.format(**fill(singular, name, 1))
    for many in (0, 2, 5, 21):
        assert I18N.gettext("en", message, **fill(plural, name, many)) == plural.format(**fill(plural, name, many))
    assert I18N.gettext("en", message, **fill(plural, name, 1)) != I18N.gettext("en", message, **fill(plural, name, 2))


@pytest.mark.parametrize(("singular", "plural"), PLURALS)
def test_chinese_has_one_form(singular: str, plural: str) -> None:
    name = count_name(singular, plural)
    message = Plural(singular, plural, name)
    one, seven = (I18N.gettext("zh", message, **fill(plural, name, n)) for n in (1, 7))
    assert one == seven.replace("7", "1")  # the same words for any number
    assert not re.search(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>|X", "", one))  # Chinese, not the English fallback


def test_the_ladder_and_the_lease_say_minute_in_the_singular() -> None:
    waited = P_("⚠️ Request #{number} ({team}) has waited {minutes} minute and nobody has taken it.",
                "⚠️ Request #{number} ({team}) has waited {minutes} minutes and nobody has taken it.", "minutes")
    assert I18N.gettext("en", waited, number=3, team="Repair", minutes=1) == \
        "⚠️ Request #3 (Repair) has waited 1 minute and nobody has taken it."
    assert "has waited 90 minutes" in I18N.gettext("en", waited, number=3, team="Repair", minutes=90)
    assert "已等待 1 分钟" in I18N.gettext("zh", waited, number=3, team="Repair", minutes=1)


def test_no_message_puts_a_number_before_a_plural_noun_without_a_plural_form() -> None:
    """The catalog's plain messages (plural entries are the cure) with ``{n} minutes``-style text."""
    offending = [m for m in SINGLES for match in NUMBER_THEN_NOUN.finditer(m) if match.group(1) not in NAMES]
    assert offending == []


def test_the_scan_finds_what_it_looks_for() -> None:
    assert NUMBER_THEN_NOUN.search("waited {minutes} minutes") is not None
    assert NUMBER_THEN_NOUN.search("and {count} more rows with errors") is not None
    assert NUMBER_THEN_NOUN.search("passed to the {team} team") is None


@given(st.one_of(st.integers(min_value=0, max_value=10**9), st.floats(min_value=0, max_value=1e6,
                                                                       allow_nan=False)))
def test_only_exactly_one_is_singular_in_english_and_chinese_never_changes(number: float) -> None:
    message = P_("{count} point", "{count} points")
    english = I18N.gettext("en", message, count=number)
    assert english.endswith(" point") == (number == 1)
    assert I18N.gettext("zh", message, count=number) == f"{number}分"
