"""Translations: gettext catalogs (Babel ``.po`` files) in Chinese (zh_Hans) and English.

Source strings are English and marked with ``_("...")`` (translated at once) or ``N_("...")``
(marked now, translated later). A message where a number precedes a noun is marked with
``P_("{count} minute", "{count} minutes", "count")``: a :class:`Plural` (still a ``str``, so it goes
wherever a message goes) whose form is chosen, when it is translated, by the number in its
``count`` parameter and the catalog's ``Plural-Forms`` (Chinese has one form, English two).
``python -m bot.i18n`` re-extracts the marked strings (``P_``'s two forms too) and merges them
into both catalogs; a test fails while any string lacks a translation in either.
Placeholders use ``str.format`` names; their values are HTML-escaped, the catalog text is not
(it may hold ``<b>`` tags).
"""

from __future__ import annotations

import gettext
import html
from collections.abc import Callable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot import __version__

LANGUAGES = ("zh", "en")
LOCALES = {"zh": "zh_Hans", "en": "en"}
LOCALE_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "N_": None, "P_": (1, 2)}  # P_: singular, plural

Translate = Callable[..., str]


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


class Plural(str):
    """A message with a plural form: the singular as a ``str`` (the catalog's key), the plural,
    and the name of the parameter whose number chooses between them."""

    plural: str
    number_param: str

    def __new__(cls, singular: str, plural: str, count: str = "count") -> Plural:
        message = super().__new__(cls, singular)
        message.plural, message.number_param = plural, count
        return message


def P_(singular: str, plural: str, count: str = "count") -> Plural:
    """Mark a message whose noun follows the number in ``count`` (``python -m bot.i18n`` extracts
    both forms); translate it later with ``_``/``tell`` like any message."""
    return Plural(singular, plural, count)


def plural_index(rule: Callable[[int], int], number: object) -> int:
    """Which form ``number`` takes under a catalog's rule; a fraction (1.5 hours) takes the form of 2."""
    value = float(str(number))
    return rule(int(value) if value.is_integer() else 2)


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
        self._plurals: dict[str, dict[str, tuple[str, ...]]] = {}
        self._rules: dict[str, Callable[[int], int]] = {}
        for language in LANGUAGES:
            catalog = read_catalog(language)
            done = [m for m in catalog if m.id and m.string and not m.fuzzy]
            self._messages[language] = {str(m.id): str(m.string) for m in done if not m.pluralizable}
            self._plurals[language] = {str(m.id[0]): tuple(m.string) for m in done
                                       if m.pluralizable and isinstance(m.string, tuple | list) and all(m.string)}
            self._rules[language] = gettext.c2py(catalog.plural_expr)

    def gettext(self, language: str | None, message: str, **params: object) -> str:
        """``message`` in ``language`` with escaped ``params`` filled in (a :class:`Plural` in the
        form its count calls for)."""
        language = language if language in self._messages else self.default_language
        if isinstance(message, Plural):
            text = self._plural_form(language, message, params[message.number_param])
        else:
            text = self._messages[language].get(message, message)
        if not params:
            return text
        return text.format(**{k: html.escape(str(v), quote=False) for k, v in params.items()})

    def _plural_form(self, language: str, message: Plural, number: object) -> str:
        forms = self._plurals[language].get(message)
        if forms is None:  # not translated yet: the English source, by the English rule
            return message if plural_index(lambda n: int(n != 1), number) == 0 else message.plural
        return forms[min(plural_index(self._rules[language], number), len(forms) - 1)]

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


def settle_header(catalog: Catalog, language: str) -> None:
    """A real header, not Babel's fuzzy placeholders: ``pybabel compile`` (without ``--use-fuzzy``)
    skips a catalog whose header is marked fuzzy, so a translator's tools would drop every message."""
    catalog.project, catalog.version = "Volunteer Loop", __version__
    catalog.copyright_holder = "Volunteer Loop contributors"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = catalog.language_team = f"Volunteer Loop ({language})"
    catalog.revision_date = catalog.creation_date
    catalog.fuzzy = False
    name = "Chinese (Simplified)" if language == "zh" else "English"
    catalog.header_comment = (f"# {name} messages of Volunteer Loop.\n"
                              "# Copyright (C) 2026 Volunteer Loop contributors (MIT licence, see LICENSE).\n"
                              "# Made by `python -m bot.i18n`; translate here, keep the header.")


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
        settle_header(catalog, language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, catalog, omit_header=False, sort_output=True, width=0)
        missing[language] = [str(m.id) for m in catalog if m.id and not m.string]
    return missing


if __name__ == "__main__":
    for lang, untranslated in update_catalogs().items():
        print(f"{lang}: {len(untranslated)} untranslated")
