"""Every user-facing string has a translation in Chinese and English, with the same placeholders
and valid Telegram HTML."""

from __future__ import annotations

import re
import string

import pytest

from bot.i18n import LANGUAGES, I18n, extract_messages, language_of, read_catalog
from sandbox.markup import parse_html

MESSAGES = sorted(str(m.id) for m in extract_messages() if m.id)


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


def test_placeholder_values_are_escaped() -> None:
    text = I18n().gettext("en", "Sent to {team}.", team="<b>evil</b> & co")
    assert text == "Sent to &lt;b&gt;evil&lt;/b&gt; &amp; co."


@pytest.mark.parametrize(("code", "expected"), [("zh-hans", "zh"), ("zh-TW", "zh"), ("en", "en"), ("ru", "en"),
                                                 (None, "zh")])
def test_telegram_language_codes(code: str | None, expected: str) -> None:
    assert language_of(code) == expected
