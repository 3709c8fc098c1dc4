"""Telegram's message rules: HTML parse mode, text length, and keyboard shapes.

The HTML checker follows the Bot API's "HTML style": a closed set of tags, the four named entities
``&lt; &gt; &amp; &quot;`` plus numeric ones, and nothing else. A stray ``<`` (for example a resident
typing ``<3`` into a message the bot forgot to escape) is an error, as it is on Telegram.
"""

from __future__ import annotations

import html
import re
from typing import Any

from sandbox.errors import bad_request

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "code", "pre", "blockquote", "tg-time",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")


def parse_html(text: str) -> str:
    """Validate ``text`` as Telegram HTML and return the plain text a person would see.

    Raises the ``can't parse entities`` 400 that Telegram sends for malformed markup.
    """
    plain: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = _TAG.match(text, i)
            offset = len(text[:i].encode("utf-8"))
            if not match:
                raise bad_request(f"can't parse entities: Unclosed start tag at byte offset {offset}")
            closing, name, _attrs, _self = match.groups()
            name = name.lower()
            if name not in _ALLOWED_TAGS:
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
                )
            if closing:
                if not stack or stack[-1] != name:
                    raise bad_request(
                        f'can\'t parse entities: Unexpected end tag at byte offset {offset}'
                    )
                stack.pop()
            else:
                stack.append(name)
            i = match.end()
        elif ch == "&":
            match = _ENTITY.match(text, i)
            if match and (match.group(1).startswith("#") or match.group(1) in _NAMED_ENTITIES):
                plain.append(html.unescape(match.group(0)))
                i = match.end()
            elif match:
                offset = len(text[:i].encode("utf-8"))
                raise bad_request(
                    f'can\'t parse entities: Unsupported HTML entity "{match.group(0)}" '
                    f"at byte offset {offset}"
                )
            else:  # a bare ampersand is taken literally, as Telegram does
                plain.append(ch)
                i += 1
        else:
            plain.append(ch)
            i += 1
    if stack:
        raise bad_request(
            f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1]}"'
        )
    return "".join(plain)


def render_text(text: str | None, parse_mode: str | None, *, caption: bool = False) -> str:
    """Check a message text or caption the way sendMessage does and return its visible text."""
    limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
    if text is None or text == "":
        if caption:
            return ""
        raise bad_request("message text is empty")
    mode = (parse_mode or "").lower()
    if mode == "html":
        visible = parse_html(text)
    elif mode in ("", "none"):
        visible = text
    elif mode in ("markdown", "markdownv2"):
        visible = text  # not validated: the project renders HTML only
    else:
        raise bad_request("unsupported parse_mode")
    if not visible.strip():
        raise bad_request("message text is empty")
    if len(visible.encode("utf-16-le")) // 2 > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return visible


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate an inline or reply keyboard; return it as a dict (or ``None`` when absent)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays")
        for row in rows:
            for button in row:
                _check_inline_button(button)
        return markup if any(rows) else None  # an empty keyboard is no keyboard
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("field \"keyboard\" of the ReplyKeyboardMarkup should be an Array of Arrays")
        for row in rows:
            for button in row:
                text = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
                if not text:
                    raise bad_request("keyboard button text is empty")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("text buttons are unallowed in the inline keyboard")
    actions = [k for k in ("callback_data", "url", "switch_inline_query", "login_url",
                           "switch_inline_query_current_chat", "web_app", "pay",
                           "copy_text", "callback_game", "switch_inline_query_chosen_chat")
               if k in button]
    if len(actions) != 1:
        raise bad_request("can't find field \"callback_data\"" if not actions else "BUTTON_TYPE_INVALID")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not re.match(r"^(https?|tg)://", str(button["url"])):
        raise bad_request("BUTTON_URL_INVALID")
