"""The catalogs compile as translators' tools compile them: ``pybabel compile`` without
``--use-fuzzy`` skips a catalog whose header is fuzzy, and with it every message."""

from __future__ import annotations

import gettext
import logging
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, catalog_path


@pytest.mark.parametrize("language", LANGUAGES)
def test_pybabel_compiles_every_message(language: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = catalog_path(language)
    with source.open("rb") as file:
        catalog = read_po(file)
    assert not catalog.fuzzy, f"{source}: the header is marked fuzzy"
    assert "PROJECT" not in catalog.project and "EMAIL@ADDRESS" not in (catalog.last_translator or "")
    compiled = tmp_path / "messages.mo"

    with caplog.at_level(logging.INFO, logger="babel"):
        CommandLineInterface().run(["pybabel", "compile", "-i", str(source), "-o", str(compiled),
                                    "-l", str(catalog.locale)])

    assert compiled.is_file(), caplog.text
    assert "fuzzy" not in caplog.text and "error" not in caplog.text.lower(), caplog.text
    with compiled.open("rb") as file:
        translations = gettext.GNUTranslations(file)
    translated = [m for m in catalog if m.id and isinstance(m.id, str) and m.string]
    assert len(translated) > 500
    assert all(translations.gettext(m.id) == m.string for m in translated)
