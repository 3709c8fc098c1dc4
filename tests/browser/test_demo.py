"""The demo in a real browser: ``volunteer-loop demo`` runs as a subprocess, headless Chromium
(Debian's, driven by Playwright) opens the page it prints, and people play one whole loop through
it — the resident orders by buttons, typing and sharing her phone, a coordinator dispatches in the
centre's group, a volunteer accepts in the team's group, goes, finishes, and the resident rates.

The team group's card is photographed at each state and the pictures are checked, not only the
page's text: the offered card shows its Accept button (the button's colour is in the picture), the
taken and the rated card show none, and the three pictures differ.
"""

from __future__ import annotations

import io
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, sync_playwright

from bot.i18n import I18n
from tests.e2e.harness import BUILDING_Q, COMMUNITY_Q, DESCRIBE, DETAIL_Q  # the request dialog's msgids
from tests.support.cli import demo_running

CHROMIUM = "/usr/bin/chromium"  # Debian's package (.ci/run installs it); Playwright downloads nothing
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
BUTTON = (0xE4, 0xEE, 0xF7)  # an inline button's background (bot/demo/static/style.css)
WAIT_MS = 15_000
I18N = I18n()


def _(message: str, **params: Any) -> str:
    return I18N.gettext("zh", message, **params).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    with demo_running(tmp_path_factory.mktemp("demo"), "--language", "zh") as url:
        with urllib.request.urlopen(url + "api/district", timeout=10) as response:
            district = json.load(response)
        yield url, district


@pytest.fixture(scope="module")
def page(demo: tuple[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS,
                                             downloads_path=tmp_path_factory.mktemp("downloads"))
        try:
            opened = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            opened.set_default_timeout(WAIT_MS)
            opened.goto(demo[0])
            yield opened
        finally:
            browser.close()


def _person(district: dict[str, Any], role: str, team: str | None = None) -> dict[str, Any]:
    return next(p for p in district["people"] if p["role"] == role and (team is None or p["team"] == team))


def _as(page: Page, person: dict[str, Any], chat: int | None = None) -> None:
    page.click(f'[data-person="{person["id"]}"]')
    page.click(f'[data-chat="{chat or person["id"]}"]')


def _bubble(page: Page, needle: str) -> Locator:
    """The last message that shows ``needle``, once it is there."""
    found = page.locator(".msg", has_text=needle).last
    found.wait_for()
    return found


def _tap(page: Page, needle: str, label: str) -> None:
    _bubble(page, needle).locator(".inline button", has_text=label).first.click()


def _say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.click("#send")


def _has_button_colour(picture: bytes) -> bool:
    image = Image.open(io.BytesIO(picture)).convert("RGB")
    return any(colour == BUTTON for _, colour in image.getcolors(maxcolors=1 << 20) or [])


def test_one_whole_loop_through_the_page(page: Page, demo: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    district = demo[1]
    resident, coordinator = _person(district, "resident"), _person(district, "coordinator")
    volunteer = _person(district, "volunteer", "repair")
    team_chat = next(c for c in volunteer["chats"] if c < 0)
    centre = next(c for c in coordinator["chats"] if c < 0 and c != team_chat)
    expect_team = district["groups"][str(team_chat)]

    # Order: the resident starts, taps the menu, chooses the kind of help, types, shares her phone.
    _as(page, resident)
    _say(page, "/start")
    page.locator("#keyboard button", has_text=_("🆘 New request")).click()
    _tap(page, _("What kind of help do you need?"), _("Repair"))
    _bubble(page, _(DESCRIBE))
    _say(page, "厨房水管漏水")
    _bubble(page, _(COMMUNITY_Q))
    _say(page, "东湖社区")
    _bubble(page, _(BUILDING_Q))
    _say(page, "3栋2单元")
    _bubble(page, _(DETAIL_Q))
    _say(page, "502室")
    page.locator("#keyboard button", has_text=_("📱 Share my phone number")).click()
    _tap(page, "502", _("✅ Today"))
    thanks = _bubble(page, _("Thank you! Your request number is <b>#{number}</b>. We will message you at every "
                             "step.", number="").split("<b>")[0])
    number = int(re.search(r"#(\d+)", thanks.inner_text()).group(1))  # type: ignore[union-attr]

    # Dispatch: a coordinator sends it to the repair team from the centre's group.
    _as(page, coordinator, centre)
    _tap(page, _("🆕 New request #{number}", number=number), _("➡️ {team}", team=expect_team))

    # Accept: the volunteer sees the live card in the team's group and takes it.
    _as(page, volunteer, team_chat)
    card = _bubble(page, f"#{number}")
    offered = card.screenshot(path=str(tmp_path / "1-offered.png"))
    card.locator(".inline button", has_text=_("✋ Accept")).click()
    taken_status = _("Status: ✅ taken by {volunteer}", volunteer=volunteer["name"])
    page.locator(".msg", has_text=taken_status).wait_for()
    taken = _bubble(page, taken_status).screenshot(path=str(tmp_path / "2-taken.png"))

    # Done: in the private chat, on the way, done, two hours.
    _as(page, volunteer)
    _tap(page, "502", _("🚶 On my way"))
    _tap(page, "502", _("✔️ Done"))
    _tap(page, _("Thank you! How many hours did request #{number} take? Tap or type a number.", number=number), "2")

    # Rate: the resident says how it went and skips the comment.
    _as(page, resident)
    _tap(page, _("{volunteer} has finished request #{number}. How did it go?", volunteer=volunteer["name"],
                 number=number), _("😊 Satisfied"))
    _tap(page, _("Thank you! Would you like to add a comment? Type it, or tap Skip."), _("Skip"))
    _bubble(page, _("Thank you for your feedback!"))

    # The card in the team's group, as the volunteer sees it now: done and rated.
    _as(page, volunteer, team_chat)
    rated_status = _("Status: done, rated {verdict}", verdict=_("😊 Satisfied"))
    rated = _bubble(page, rated_status).screenshot(path=str(tmp_path / "3-rated.png"))

    assert _has_button_colour(offered), "the offered card shows no Accept button"
    assert not _has_button_colour(taken) and not _has_button_colour(rated), "a taken card still has buttons"
    assert len({offered, taken, rated}) == 3, "the card looks the same at two states"
    assert "502" not in _bubble(page, rated_status).inner_text(), "the flat number reached the group"
