"""Translations: gettext catalogs (Babel ``.po`` files) in Chinese (zh_Hans) and English.

Source strings are English and marked with ``_("...")`` (translated at once) or ``N_("...")``
(marked now, translated later). ``python -m bot.i18n`` re-extracts the marked strings and merges
them into both catalogs; a test fails while any string lacks a translation in either.
Placeholders use ``str.format`` names; their values are HTML-escaped, the catalog text is not
(it may hold ``<b>`` tags).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LANGUAGES = ("zh", "en")
LOCALES = {"zh": "zh_Hans", "en": "en"}
LOCALE_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
KEYWORDS = {"_": None, "N_": None}

Translate = Callable[..., str]


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def language_of(telegram_code: str | None, default: str = "zh") -> str:
    """Telegram's ``language_code`` → ours: Chinese for ``zh*``, English for anything else."""
    if not telegram_code:
        return default
    return "zh" if telegram_code.lower().startswith("zh") else "en"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as file:
        return read_po(file, locale=LOCALES[language])


class I18n:
    """All catalogs, loaded once."""

    def __init__(self, default_language: str = "zh") -> None:
        self.default_language = default_language
        self._messages: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            catalog = read_catalog(language)
            self._messages[language] = {
                str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy
            }

    def gettext(self, language: str | None, message: str, **params: object) -> str:
        """``message`` in ``language`` with escaped ``params`` filled in."""
        table = self._messages.get(language or self.default_language) or self._messages[self.default_language]
        text = table.get(message, message)
        if not params:
            return text
        return text.format(**{k: html.escape(str(v), quote=False) for k, v in params.items()})

    def translator(self, language: str | None) -> Translate:
        """A ``_`` bound to one language."""
        def _(message: str, **params: object) -> str:
            return self.gettext(language, message, **params)

        return _

    def all_translations(self, message: str) -> set[str]:
        """``message`` in every language (to recognise a menu button whichever language it shows)."""
        return {self.gettext(language, message) for language in LANGUAGES}


def extract_messages() -> Catalog:
    """Every marked string in ``bot/``, as a template catalog."""
    from babel.messages.extract import extract_from_dir

    template = Catalog(project="volunteer-loop")
    root = Path(__file__).parent
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
    ):
        template.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return template


def update_catalogs() -> dict[str, list[str]]:
    """Merge newly marked strings into both catalogs; returns the untranslated ones per language."""
    from babel.messages.pofile import write_po

    template = extract_messages()
    missing: dict[str, list[str]] = {}
    for language in LANGUAGES:
        path = catalog_path(language)
        catalog = read_catalog(language) if path.exists() else Catalog(locale=LOCALES[language])
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, catalog, omit_header=False, sort_output=True, width=0)
        missing[language] = [str(m.id) for m in catalog if m.id and not m.string]
    return missing


if __name__ == "__main__":
    for lang, untranslated in update_catalogs().items():
        print(f"{lang}: {len(untranslated)} untranslated")
