"""Deep links and their QR codes: the PNG decodes to exactly the link."""

from __future__ import annotations

import pytest

from bot.adapters.attachments import qr_png
from bot.domain.links import (
    BUILDING,
    TEAM,
    StartTarget,
    parse_start,
    start_link,
)
from tests.support.qrcodes import decode_qr


@pytest.mark.parametrize(("kind", "code"), [(TEAM, "repair_1"), (BUILDING, "dh_3")])
def test_qr_code_decodes_to_the_link(kind: str, code: str) -> None:
    link = start_link("VolunteerLoopBot", kind, code)
    png = qr_png(link)
    assert png.startswith(b"\x89PNG")
    assert decode_qr(png) == link
    assert parse_start(link.split("start=")[1]) == StartTarget(kind, code)


@pytest.mark.parametrize("payload", [None, "", "team_", "team_Repair", "x_repair", "team_repair;drop", "b_" + "a" * 40])
def test_foreign_payloads_are_not_targets(payload: str | None) -> None:
    assert parse_start(payload) is None


def test_a_code_that_cannot_be_a_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="not a start payload"):
        start_link("VolunteerLoopBot", TEAM, "Bad Code")
