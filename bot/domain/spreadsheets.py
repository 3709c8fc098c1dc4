"""Text people typed, made safe for a CSV file that a spreadsheet program will open.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) is
read by Excel and WPS as a formula, so a name or an activity title typed as ``=HYPERLINK(…)`` would
run in the coordinator's spreadsheet (CSV injection, OWASP). Such text is written with a leading
apostrophe, which spreadsheets show as plain text. XLSX cells are written as strings, never formulas,
and need nothing.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet reads as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
