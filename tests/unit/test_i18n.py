"""Every user-facing string has a translation in Chinese and English, with the same placeholders
and valid Telegram HTML."""

from __future__ import annotations

import re
import string

import pytest

from bot.i18n import LANGUAGES, I18n, Plural, extract_messages, language_of, read_catalog
from sandbox.markup import parse_html

EXTRACTED = [m for m in extract_messages() if m.id]
MESSAGES = sorted(str(m.id) for m in EXTRACTED if not m.pluralizable)
PLURALS = sorted((str(m.id[0]), str(m.id[1])) for m in EXTRACTED if m.pluralizable)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_messages_are_extracted() -> None:
    assert len(MESSAGES) > 100
    assert "✋ Accept" in MESSAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    catalog = read_catalog(language)
    translated = {str(m.id): m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = [m for m in MESSAGES if m not in translated]
    assert missing == []
    mismatched = [m for m in MESSAGES if placeholders(m) != placeholders(str(translated[m]))]
    assert mismatched == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_plural_message_has_all_its_forms(language: str) -> None:
    """A plural entry has as many forms as the language's Plural-Forms (Chinese one, English two),
    each with the placeholders of the source."""
    catalog = read_catalog(language)
    assert catalog.num_plurals == {"zh": 1, "en": 2}[language]
    forms = {str(m.id[0]): m.string for m in catalog if m.pluralizable and not m.fuzzy}
    assert len(PLURALS) > 10
    for singular, plural in PLURALS:
        assert singular in forms, singular
        assert len(forms[singular]) == catalog.num_plurals and all(forms[singular]), singular
        assert all(placeholders(form) == placeholders(plural) == placeholders(singular)
                   for form in forms[singular]), singular


def test_chinese_is_really_chinese() -> None:
    i18n = I18n()
    untranslated = [m for m in MESSAGES
                    if re.search(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}|<[^>]+>|/\w+|&\w+;", "", m))
                    and i18n.gettext("zh", m) == m]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_are_valid_telegram_html(language: str) -> None:
    i18n = I18n()
    for message in MESSAGES:
        filled = i18n.gettext(language, message, **dict.fromkeys(placeholders(message), "<x> & y"))
        parse_html(filled)  # raises on anything Telegram would refuse
    for singular, plural in PLURALS:
        for count in (1, 2):
            message = Plural(singular, plural, "n")
            params = {**dict.fromkeys(placeholders(singular), "<x> & y"), "n": count}
            parse_html(i18n.gettext(language, message, **params))


def test_placeholder_values_are_escaped() -> None:
    text = I18n().gettext("en", "Sent to {team}.", team="<b>evil</b> & co")
    assert text == "Sent to &lt;b&gt;evil&lt;/b&gt; &amp; co."


@pytest.mark.parametrize(("code", "expected"), [("zh-hans", "zh"), ("zh-TW", "zh"), ("en", "en"), ("ru", "en"),
                                                 (None, "zh")])
def test_telegram_language_codes(code: str | None, expected: str) -> None:
    assert language_of(code) == expected
