"""The demo page's own labels: every one translated into both languages (the page switches between
them without asking the server again)."""

from __future__ import annotations

from bot.demo.page import LABELS, labels
from bot.i18n import LANGUAGES, I18n


def test_every_label_is_there_in_both_languages_and_chinese_is_chinese() -> None:
    translated = labels(I18n())
    assert set(translated) == set(LANGUAGES)
    for language in LANGUAGES:
        assert set(translated[language]) == set(LABELS)
        assert all(translated[language].values())
    assert translated["en"] == LABELS
    assert all(translated["zh"][key] != text for key, text in LABELS.items())
    assert translated["zh"]["language"] == "English（英文）" and translated["en"]["language"] == "中文 (Chinese)"
