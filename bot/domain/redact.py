"""The one scrubber for free text shown in a group: phone numbers out, whatever way they are typed.

Residents type numbers every way there is: ``138-1234-5678``, ``138.1234.5678``, ``(010) 8765 4321``,
``+86 138…``, ``0086…``, full-width ``１３８…``, Chinese numerals ``一三八幺二三四五六七八`` (or
壹贰叁…) or a mix.
The text is first mapped character for character to a plain form (Chinese and full-width digits to
ASCII digits, full-width punctuation to ASCII), so every span found there is the same span of the
original text, which is what gets replaced. Two finders look at the plain form:

- ``phonenumbers``' matcher (region CN, so international numbers with ``+`` or ``00`` too), for the
  formats the library knows;
- a digit-run rule: digits joined by up to four separators (spaces, dots, slashes, dashes,
  brackets, colons, in any mix) holding at least :data:`PHONE_DIGITS` digits.

Dates (``2026-12-01``, ``2026/12/01``, ``01.12.2026``) and times (``14:30``) are not phone numbers:
they break digit runs and veto the matcher where they overlap it. Room numbers, buildings and
other short numbers stay as typed.
"""

from __future__ import annotations

import re

from phonenumbers import Leniency, PhoneNumberMatcher

MASK = "***"
PHONE_DIGITS = 7  # the shortest local landline; mobiles have 11, international numbers up to 15
MATCHER_REGION = "CN"
SEPARATORS = " \t\n.-/()[]_:~·"  # after mapping to the plain form
MAX_SEPARATORS = 4  # between two digit groups of one number, e.g. ") - " (a bracket, a spaced dash)

# Character-for-character plain form (same length, so spans line up with the original text).
_PLAIN = str.maketrans({
    **{chr(0xFF10 + d): str(d) for d in range(10)},  # full-width ０-９
    **dict(zip("〇零一二三四五六七八九", "00123456789", strict=True)),
    **dict(zip("壹贰叁肆伍陆柒捌玖", "123456789", strict=True)),  # the numerals of cheques
    "幺": "1", "两": "2",
    "＋": "+", "（": "(", "）": ")", "［": "[", "］": "]", "【": "[", "】": "]", "－": "-", "—": "-",
    "–": "-", "‐": "-", "‑": "-", "−": "-", "．": ".", "。": ".", "／": "/", "＼": "/", "\\": "/",
    "：": ":", "　": " ", "\u00a0": " ", "＿": "_", "～": "~", "・": "·",
})
_GROUP = re.compile(r"\d+")
_DATE = re.compile(r"(?<!\d)(?:(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
                   r"|(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|1[0-2])\2(?:19|20)\d\d)(?!\d)")
_TIME = re.compile(r"(?<!\d)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?!\d)")
_MIN_DIGITS_FOR_A_LOOK = 5  # fewer digits in the whole text: nothing to look for


def plain(text: str) -> str:
    """``text`` with every digit as an ASCII digit and common full-width punctuation as ASCII."""
    return text.translate(_PLAIN)


def _protected(flat: str) -> list[tuple[int, int]]:
    """Spans of times and of dates standing on their own: ordinary content, not phone numbers. A
    date glued to more digits (``010-2026-03-15``) is part of a number, so it is not protected."""
    times = [m.span() for m in _TIME.finditer(flat)]

    def digit_next_to(index: int, step: int) -> bool:
        for _ in range(MAX_SEPARATORS + 1):
            if not 0 <= index < len(flat) or _inside(index, index + 1, times):
                return False
            if flat[index].isdigit():
                return True
            if flat[index] not in SEPARATORS:
                return False
            index += step
        return False

    dates = [m.span() for m in _DATE.finditer(flat)
             if not digit_next_to(m.start() - 1, -1) and not digit_next_to(m.end(), 1)]
    return times + dates


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def _digit_runs(flat: str, protected: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of digit groups joined by short runs of separators, with enough digits for a phone."""
    groups = [m.span() for m in _GROUP.finditer(flat) if not _inside(*m.span(), protected)]
    found: list[tuple[int, int]] = []
    run_start = run_end = -1
    digits = 0

    def close() -> None:
        if digits >= PHONE_DIGITS:
            start = run_start
            while start > 0 and flat[start - 1] in "+([":  # a leading + or bracket goes too
                start -= 1
            found.append((start, run_end))

    for start, end in groups:
        gap = flat[run_end:start] if run_end >= 0 else None
        joined = gap is not None and len(gap) <= MAX_SEPARATORS and all(c in SEPARATORS for c in gap) \
            and not _overlaps(run_end, start, protected)
        if joined:
            run_end, digits = end, digits + end - start
        else:
            if run_end >= 0:
                close()
            run_start, run_end, digits = start, end, end - start
    if run_end >= 0:
        close()
    return found


def _matched(flat: str, protected: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans ``phonenumbers`` recognises (national and international) with a phone's length, dates
    and times excepted (short service numbers such as 95588 are no one's personal data)."""
    return [(m.start, m.end) for m in PhoneNumberMatcher(flat, MATCHER_REGION, leniency=Leniency.POSSIBLE)
            if sum(c.isdigit() for c in m.raw_string) >= PHONE_DIGITS and not _overlaps(m.start, m.end, protected)]


def phone_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds phone numbers: sorted, merged (start, end) spans of the original text."""
    flat = plain(text)
    if sum(c.isdigit() for c in flat) < _MIN_DIGITS_FOR_A_LOOK:
        return []
    protected = _protected(flat)
    spans = sorted(_digit_runs(flat, protected) + _matched(flat, protected))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mask_phones(text: str) -> str:
    """``text`` with each phone number replaced by :data:`MASK`, everything else as it was."""
    pieces, last = [], 0
    for start, end in phone_spans(text):
        pieces += [text[last:start], MASK]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def redact(text: str, limit: int | None = None) -> str:
    """A field a person typed, fit for a group: phone numbers masked, whitespace collapsed and, with
    ``limit``, cut to that many characters (after the numbers are gone, so a cut never leaves part
    of one)."""
    text = " ".join(mask_phones(text).split())
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
