"""Paging a list (bot.views.lists): a line too long for a page (a big team's members) is cut between
names, and every name is shown."""

from __future__ import annotations

from bot.views import lists as paging


def test_a_line_too_long_for_a_page_is_cut_between_names() -> None:
    names = [f"Volunteer Number {i:04d}" for i in range(400)]
    pages = paging.pages("<b>Team</b>", ["Leaders: —", "Members (400): " + ", ".join(names)], "")
    assert len(pages) > 1
    assert all(len("\n".join(["<b>Team</b>", *page])) < paging.PAGE_LIMIT for page in pages)
    shown = " ".join(line for page in pages for line in page)
    assert all(name in shown for name in names)
