"""What the demo's page shows of a message is rebuilt from Telegram's tags only: no markup or
script a bot or a person wrote survives as anything but text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.demo.page import safe_html

ALLOWED = {"b", "i", "u", "s", "code", "pre", "blockquote", "span", "a"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(shown: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(shown)
    return parser.tags


def test_telegrams_tags_are_kept_and_text_is_escaped() -> None:
    shown = safe_html(None, '<b>#7 维修</b>\n<i>a</i> <tg-spoiler>x</tg-spoiler> <a href="https://t.me/x">link</a>'
                            " &lt;script&gt; 1 &amp; 2")
    assert shown == ('<b>#7 维修</b>\n<i>a</i> <span class="spoiler">x</span> '
                     '<a href="https://t.me/x" target="_blank" rel="noopener noreferrer">link</a>'
                     ' &lt;script&gt; 1 &amp; 2')


def test_anything_else_becomes_text_or_goes() -> None:
    shown = safe_html(None, '<img src=x onerror="alert(1)"><a href="javascript:alert(1)">x</a>'
                            "<script>alert(2)</script>")
    assert _tags(shown) == [("a", {})]
    assert "javascript" not in shown and "onerror" not in shown and "<script" not in shown
    assert safe_html("<b>plain</b> & text", None) == "&lt;b&gt;plain&lt;/b&gt; &amp; text"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"<>/\"'=& abscriptimgonerrohfjv:", "<b>", "</b>", "<a href=", "<script>",
                                 "<tg-spoiler>", "<img ", "javascript:", "https://"]), max_size=40).map("".join),
       st.booleans())
def test_no_input_yields_a_tag_or_attribute_outside_telegrams(markup: str, as_html: bool) -> None:
    shown = safe_html(markup, markup if as_html else None)
    for tag, attrs in _tags(shown):
        assert tag in ALLOWED, shown
        assert set(attrs) <= {"href", "target", "rel", "class"}, shown
        assert re.match(r"^(https?://|tg://)", attrs.get("href") or "https://") or "href" not in attrs, shown
