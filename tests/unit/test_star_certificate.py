"""The 志愿之星 certificate as the outbox keeps it: a photo described by the month's figures, read
back exactly as written; a row we did not write is refused; the adapter makes a real PNG of it
(the placeholder until the charts' image is wired in) and the caption's words come from the catalogs."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.adapters.attachments import AttachmentRenderer
from bot.domain.attachments import StarCertificate, from_payload, to_payload
from bot.i18n import I18n
from bot.views.recognition import certificate_texts

STAR = StarCertificate("刘璐", "维修队", "2026-11", 12.5, 9, 4, 5, "zh")


def test_the_row_keeps_the_figures_and_reads_back() -> None:
    payload = to_payload(STAR)
    assert payload == {"kind": "star", "name": "刘璐", "team": "维修队", "month": "2026-11", "hours": 12.5,
                       "services": 9, "satisfied": 4, "rated": 5, "language": "zh", "field": "photo"}
    assert from_payload(payload) == STAR


def test_a_bad_month_is_refused() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        from_payload({**to_payload(STAR), "month": "2026-13"})


async def test_the_renderer_makes_a_png_photo() -> None:
    field, upload = await AttachmentRenderer(translators=I18n().translator).render(to_payload(STAR))
    assert field == "photo" and upload.filename == "star-2026-11.png"
    assert upload.input_file_content is not None
    image = Image.open(io.BytesIO(upload.input_file_content))
    assert image.format == "PNG" and image.size == (1200, 840)  # bot.views.charts' certificate card
    low, high = image.convert("L").getextrema()
    assert high - low > 100  # drawn, not a blank card


def test_the_certificate_words_in_both_languages() -> None:
    i18n = I18n()
    assert certificate_texts(i18n.translator("zh"), STAR) == ("2026年11月", "5次评价中4次满意")
    assert certificate_texts(i18n.translator("en"), STAR) == ("11/2026", "4 of 5 ratings satisfied")
    unrated = StarCertificate("Li", "Repair", "2026-11", 1.0, 1, 0, 0, "en")
    assert certificate_texts(i18n.translator("en"), unrated)[1] == "no ratings yet"
