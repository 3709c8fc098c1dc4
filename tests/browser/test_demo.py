"""The demo's page in a real browser (Debian's Chromium, driven by Playwright): one whole loop played
through the page as people would — the resident orders, the coordinator dispatches, a volunteer
accepts in the team's group, finishes, the resident rates — with the team card's screenshots
checked at each of its states (offered → accepted → done)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from bot.i18n import I18n
from bot.views.common import MENU_NEW_REQUEST, SHARE_PHONE
from tests.support.demo import demo_running

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STEP_MS = 15_000  # how long one step may wait for the bot's answer (the outbox paces like Telegram)
# The page's state marks (bot/demo/static/style.css), as RGB.
STATE_COLOURS = {"open": (0xF2, 0xA2, 0x0C), "accepted": (0x2E, 0x9D, 0x4F), "done": (0x8E, 0x44, 0xAD)}
_ = I18n().translator("en")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def message(page: Page, text: str) -> Locator:
    """The newest message in the open chat containing ``text`` (waiting for it)."""
    found = page.locator(".msg", has_text=text).last
    found.wait_for(timeout=STEP_MS)
    return found


def tap(page: Page, text: str, label: str) -> None:
    """Tap the inline button ``label`` under the newest message containing ``text``."""
    message(page, text).get_by_role("button", name=label, exact=True).click()


def as_person(page: Page, name: str, chat: str | None = None) -> None:
    page.locator(".person", has_text=name).first.click()
    if chat is not None:
        page.locator(".chat-item", has_text=chat).click()
    expect(page.locator("#chat-title")).to_have_text(chat or _("Chat with the bot"))


def send(page: Page, text: str) -> None:
    page.locator("#text").fill(text)
    page.locator("#text").press("Enter")


def press(page: Page, label: str) -> None:
    page.locator("#keyboard button", has_text=label).click()


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def mark_colour(card: Locator) -> tuple[tuple[int, int, int], bytes]:
    """The colour in the middle of the card's state mark (its left edge) and the card's screenshot."""
    shot = card.screenshot()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    red, green, blue = image.getpixel((2, image.height // 2))  # type: ignore[misc]
    return (red, green, blue), shot


def assert_state(card: Locator, state: str) -> bytes:
    expect(card).to_have_attribute("data-state", state, timeout=STEP_MS)
    colour, shot = mark_colour(card)
    assert all(abs(a - b) <= 8 for a, b in zip(colour, STATE_COLOURS[state], strict=True)), (state, colour)
    return shot


def test_one_whole_loop_through_the_page(tmp_path: Path, browser: Browser) -> None:
    with demo_running(tmp_path, "--language", "en") as (url, line):
        assert line.startswith("Volunteer Loop demo: ")
        page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        expect(page.locator("#roles h3").first).to_have_text(_("Residents"))
        page.locator("#language").click()  # the page's own labels switch; the district keeps its names
        expect(page.locator("#roles h3").first).to_have_text("居民")
        page.locator("#language").click()
        expect(page.locator("#roles h3").first).to_have_text(_("Residents"))

        # The resident asks for a repair: the menu button, a category, typed answers, the phone shared.
        as_person(page, "Mr Huang")
        page.locator("#start").click()
        press(page, _(MENU_NEW_REQUEST))
        tap(page, _("What kind of help do you need?"), _("Repair"))
        message(page, _("Please tell us what you need help with.").split(".")[0])
        send(page, "The balcony door will not close")
        community = _("Which community do you live in? (e.g. Sunshine Community)")
        either = re.escape(community) + "|" + re.escape(_("✅ Today"))
        asked = page.locator(".msg", has_text=re.compile(either)).last
        asked.wait_for(timeout=STEP_MS)
        if asked.get_by_role("button", name=_("✅ Today"), exact=True).count() == 0:
            send(page, "Sunshine Community")
            message(page, _("Which building and unit do you live in? (e.g. Building 3, Unit 2)"))
            send(page, "Building 3, Unit 2")
            message(page, _("What is your door number? (e.g. Room 402)"))
            send(page, "Room 402")
            expect(page.locator("#keyboard button", has_text=_(SHARE_PHONE))).to_be_visible(timeout=STEP_MS)
            press(page, _(SHARE_PHONE))
        summary = page.locator(".msg").filter(has=page.get_by_role("button", name=_("✅ Today"), exact=True)).last
        summary.get_by_role("button", name=_("✅ Today"), exact=True).click()
        thanks = message(page, _("Thank you! Your request number is <b>#{number}</b>.", number=0).split("<b>")[0])
        number = int(re.search(r"#(\d+)", thanks.inner_text()).group(1))  # type: ignore[union-attr]

        # The coordinator sends it to the repair team from the card in the coordinators' group.
        as_person(page, "Coco Chen", "Volunteer centre")
        tap(page, _("🆕 New request #{number}", number=number), _("➡️ {team}", team="Repair team"))

        # In the team's group the card waits for a volunteer; Master Li accepts it.
        as_person(page, "Master Li", "Repair team")
        card = message(page, f"#{number}")
        offered = assert_state(card, "open")
        card.get_by_role("button", name=_("✋ Accept"), exact=True).click()
        card = page.locator(f'.msg[data-message-id="{card.get_attribute("data-message-id")}"]')
        accepted = assert_state(card, "accepted")
        expect(card.locator(".edited")).to_be_visible()

        # In his private chat: on the way, done, two hours.
        as_person(page, "Master Li")
        tap(page, _("🚶 On my way"), _("🚶 On my way"))
        tap(page, _("Noted: on your way to request #{number}. Tap Done when finished.", number=number), _("✔️ Done"))
        tap(page, _("Thank you! How many hours did request #{number} take? Tap or type a number.", number=number), "2")
        message(page, _("Recorded {hours} h for request #{number}. Thank you!", hours=2.0, number=number))

        as_person(page, "Master Li", "Repair team")
        done = assert_state(page.locator(".msg", has_text=f"#{number}").last, "done")
        assert len({offered, accepted, done}) == 3  # each state looks different
        card_text = page.locator(".msg", has_text=f"#{number}").last.inner_text()
        assert "The balcony door will not close" in card_text and "Master Li" in card_text, card_text

        # The resident rates it; the bot thanks them.
        as_person(page, "Mr Huang")
        tap(page, _("{volunteer} has finished request #{number}. How did it go?", volunteer="Master Li", number=number),
            _("😊 Satisfied"))
        tap(page, _("Thank you! Would you like to add a comment? Type it, or tap Skip."), _("Skip"))
        message(page, _("Thank you for your feedback!"))
        # A voice note and a photo from the page land in the chat as the resident's own messages.
        page.locator("#voice").click()
        expect(page.locator(".msg.mine audio")).to_have_count(1, timeout=STEP_MS)
        page.locator("#file").set_input_files({"name": "pipe.png", "mimeType": "image/png", "buffer": tiny_png()})
        expect(page.locator(".msg.mine img")).to_have_count(1, timeout=STEP_MS)

        # The bot's HTML keeps Telegram's tags only: no script, no attribute handlers, no unsafe link.
        rendered = page.evaluate("""() => { const box = document.createElement("div");
            box.append(richText('<b>bold</b><script>bad()</script><img src=x onerror=bad()>'
              + '<a href="javascript:bad()">link</a><tg-spoiler>secret</tg-spoiler><i onclick="bad()">x</i>'));
            return box.innerHTML; }""")
        assert rendered == ('<b>bold</b>bad()<a>link</a><span class="tg-spoiler">secret</span><i>x</i>'), rendered
        assert errors == []
        page.close()
