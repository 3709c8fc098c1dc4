"""Paging a list (bot.views.notifier.Notifier): a line too long for a page (a big team's members) is
cut between names, and every name is shown."""

from __future__ import annotations

from bot.i18n import I18n
from bot.services.context import ServiceConfig
from bot.views.notifier import Notifier

I18N = I18n()
CONFIG = ServiceConfig(categories=("repair",), coordinators_chat_id=-100, default_language="en")


def test_a_line_too_long_for_a_page_is_cut_between_names() -> None:
    notifier = Notifier(None, I18N, CONFIG)  # type: ignore[arg-type]  # paging only: no unit of work
    names = [f"Volunteer Number {i:04d}" for i in range(400)]
    pages = notifier._pages("<b>Team</b>", ["Leaders: —", "Members (400): " + ", ".join(names)], "")
    assert len(pages) > 1
    assert all(len("\n".join(["<b>Team</b>", *page])) < notifier.PAGE_LIMIT for page in pages)
    shown = " ".join(line for page in pages for line in page)
    assert all(name in shown for name in names)
