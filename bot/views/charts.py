"""PNG charts and the volunteer-star certificate, drawn from plain values (docs/charts.md).

Every text is set in Noto Sans SC / Noto Serif SC from the ``pylopdf-fonts-zh-cn`` wheel, registered
with matplotlib by file path, so Chinese renders on a machine with no system CJK font. matplotlib is
imported inside the functions (Agg, no display): the bot's start-up does not pay for it, the first
chart does. Catalog text is drawn as it is (a missing glyph is a bug the tests catch); what people
typed (names, team names) loses the characters the font lacks (emoji), rather than showing boxes.
"""

from __future__ import annotations

import functools
import io
import math
import textwrap
import threading
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pylopdf_fonts_zh_cn

from bot.domain.measures import RATE_KEYS, RATE_NAMES, Rate
from bot.i18n import N_, P_, Translate
from bot.views.hours import hours as hours_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SANS_FONT = pylopdf_fonts_zh_cn.sans_path()  # Noto Sans SC Regular (charts)
SERIF_FONT = pylopdf_fonts_zh_cn.serif_path()  # Noto Serif SC Regular (the certificate)

RATES_TITLE = N_("Rates month by month")
TEAMS_TITLE = N_("Teams side by side")
GAPS_NOTE = N_("A break in a line, or — in place of a bar: nothing to count (no denominator).")
NOTHING_YET = N_("Nothing to show yet.")
CERTIFICATE_TITLE = N_("Certificate of Honour")
STAR_TITLE = N_("Volunteer Star")
STAR_TEXT = N_("Of {team}: chosen as a Volunteer Star of {month} for outstanding service. With our thanks.")
STAR_TEXT_NO_TEAM = N_("Chosen as a Volunteer Star of {month} for outstanding service. With our thanks.")
HOURS_LABEL = N_("Hours served")
HOURS_VALUE = N_("{hours} h")
SERVICES_LABEL = N_("Services")
SERVICES_VALUE = P_("{count} time", "{count} times")
RATING_LABEL = N_("Residents' rating")

# Okabe-Ito: told apart by colour-blind readers too; one colour per rate, in RATE_KEYS' order.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00")
RED, GOLD, PAPER, INK = "#A8322D", "#C9A227", "#FFFBF0", "#333333"
DPI = 120
NO_LINE_START = "，。、；：\uff01\uff1f”\u2019）》」』…"  # Chinese punctuation never starts a line
NAME_CHARACTERS = 20  # a longer name is cut with "…" so it fits the certificate's line

_LOCK = threading.Lock()  # matplotlib's settings are global: one drawing at a time


def rate_points(series: Sequence[tuple[str, Mapping[str, Rate]]]) -> dict[str, list[float | None]]:
    """Percent per rate per label, in RATE_KEYS' order; None where there is nothing to divide by
    (or no such rate that month), so it is drawn as a gap, never as 0. Rates none of the labels has
    are left out."""
    points: dict[str, list[float | None]] = {}
    for key in RATE_KEYS:
        if any(key in rates for _, rates in series):
            points[key] = [_percent(rates.get(key)) for _, rates in series]
    return points


def rates_by_month(series: Sequence[tuple[str, Mapping[str, Rate]]], translate: Translate) -> bytes:
    """A line per rate over the months of ``series`` ((month label, rates by key), oldest first;
    labels as people read them, e.g. ``views.common.month_label``): a PNG, y in percent."""
    points = rate_points(series)
    with _figure((9.0, 5.0)) as figure:
        axes = figure.add_subplot()
        positions = list(range(len(series)))
        for key, values in points.items():
            axes.plot(positions, [math.nan if v is None else v for v in values], marker="o", linewidth=2,
                      color=_colour(key), label=translate(RATE_NAMES[key]))
        turned = len(series) > 8
        axes.set_xticks(positions, [_typed(label) for label, _ in series], rotation=30 if turned else 0,
                        ha="right" if turned else "center")
        _percent_axis(axes, translate, points)
        axes.set_title(translate(RATES_TITLE), fontsize=15, pad=12)
        return _png(figure)


def teams_side_by_side(rows: Sequence[tuple[str, Mapping[str, Rate]]], translate: Translate) -> bytes:
    """Grouped bars: for each team of ``rows`` ((team name, rates by key)), a bar per rate, in
    percent; a rate with nothing to divide by shows "—" where its bar would stand."""
    points = rate_points(rows)
    width = min(15.0, max(9.0, 1.4 * len(rows) + 3))
    with _figure((width, 5.0)) as figure:
        axes = figure.add_subplot()
        step = 0.8 / max(1, len(points))
        for index, (key, values) in enumerate(points.items()):
            offset = (index - (len(points) - 1) / 2) * step
            drawn = [(team + offset, v) for team, v in enumerate(values) if v is not None]
            bars = axes.bar([x for x, _ in drawn], [v for _, v in drawn], step * 0.92, color=_colour(key),
                            label=translate(RATE_NAMES[key]))
            if len(rows) <= 8:
                axes.bar_label(bars, fmt="{:.0f}", fontsize=8, padding=2)
            for team, value in enumerate(values):
                if value is None:
                    axes.text(team + offset, 1, "—", ha="center", va="bottom", fontsize=14, color=_colour(key))
        turned = len(rows) > 5
        axes.set_xticks(list(range(len(rows))), [_typed(team) for team, _ in rows],
                        rotation=30 if turned else 0, ha="right" if turned else "center")
        _percent_axis(axes, translate, points)
        axes.set_title(translate(TEAMS_TITLE), fontsize=15, pad=12)
        return _png(figure)


def star_certificate(name: str, team: str, month_label: str, hours: float, services: int, rating_text: str,
                     translate: Translate, *, issuer: str = "") -> bytes:
    """The volunteer of the month's certificate card (荣誉证书 · 志愿之星): ``name``, ``team`` ("" for
    none), the month as people read it, the hours served, the services done, and the rating as
    the caller words it (e.g. "满意率 96%（24/25）"); ``issuer`` (the centre's name) signs it."""
    with _figure((10.0, 7.0), serif=True) as figure:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        figure.patch.set_facecolor(PAPER)
        for inset, line, colour in ((0.025, 7.0, RED), (0.045, 1.5, GOLD)):
            figure.add_artist(Rectangle((inset, inset * 10 / 7), 1 - 2 * inset, 1 - 2 * inset * 10 / 7,
                                        transform=figure.transFigure, fill=False, linewidth=line,
                                        edgecolor=colour))
        figure.text(0.5, 0.80, translate(CERTIFICATE_TITLE), ha="center", va="center", fontsize=42, color=RED)
        figure.text(0.5, 0.685, translate(STAR_TITLE), ha="center", va="center", fontsize=22, color=INK)
        for x in (0.34, 0.66):
            figure.add_artist(Line2D([x], [0.69], marker="*", markersize=24, color=GOLD,
                                     transform=figure.transFigure))
        figure.text(0.5, 0.575, _shortened(_typed(name)) or "—", ha="center", va="center", fontsize=30,
                    color=INK)
        team_name, month = _typed(team), _typed(month_label)
        text = (translate(STAR_TEXT).format(team=team_name, month=month) if team_name
                else translate(STAR_TEXT_NO_TEAM).format(month=month))
        figure.text(0.5, 0.465, _wrapped(text), ha="center", va="center", fontsize=15, color=INK,
                    linespacing=1.6)
        figures = ((HOURS_LABEL, translate(HOURS_VALUE).format(hours=hours_text(round(hours * 60)))),
                   (SERVICES_LABEL, translate(SERVICES_VALUE, count=services)),
                   (RATING_LABEL, _typed(rating_text) or "—"))
        for x, (label, value) in zip((0.25, 0.5, 0.75), figures, strict=True):
            figure.text(x, 0.335, translate(label), ha="center", va="center", fontsize=13, color=RED)
            figure.text(x, 0.27, value, ha="center", va="center", fontsize=18, color=INK)
        if signature := _typed(issuer):
            figure.text(0.88, 0.14, signature, ha="right", va="center", fontsize=15, color=INK)
        return _png(figure)


def _percent(rate: Rate | None) -> float | None:
    share = rate.value if rate is not None else None
    return None if share is None else 100 * share


def _colour(key: str) -> str:
    return COLOURS[RATE_KEYS.index(key) % len(COLOURS)]


def _percent_axis(axes: Axes, translate: Translate, points: Mapping[str, Sequence[float | None]]) -> None:
    """0–100 % on y (higher if a rate is), a light grid, the legend and the gaps' note; "nothing
    yet" when there is no rate at all."""
    from matplotlib.ticker import PercentFormatter

    values = [v for series in points.values() for v in series if v is not None]
    axes.set_ylim(0, max([100.0, *values]) + 8)
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    axes.grid(axis="y", color="#DDDDDD")
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if not any(points.values()):
        axes.text(0.5, 0.5, translate(NOTHING_YET), transform=axes.transAxes, ha="center", va="center",
                  fontsize=14, color="#888888")
        return
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    axes.figure.supxlabel(translate(GAPS_NOTE), fontsize=9, color="#666666")


@functools.cache
def _families() -> tuple[str, str]:
    """Register the packaged fonts with matplotlib (once) and return their family names."""
    from matplotlib import font_manager

    names = []
    for path in (SANS_FONT, SERIF_FONT):
        font_manager.fontManager.addfont(str(path))
        names.append(font_manager.FontProperties(fname=str(path)).get_name())
    return names[0], names[1]


@functools.cache
def _coverage() -> frozenset[int]:
    """The code points both packaged fonts draw."""
    from matplotlib.ft2font import FT2Font

    sans, serif = (set(FT2Font(str(path)).get_charmap()) for path in (SANS_FONT, SERIF_FONT))
    return frozenset(sans & serif)


def _typed(text: str) -> str:
    """What a person typed, with the characters the fonts lack (emoji, joiners) dropped."""
    covered = _coverage()
    kept = "".join(c for c in text if ord(c) in covered or c == " ")
    return " ".join(kept.split())


def _shortened(name: str) -> str:
    return name if len(name) <= NAME_CHARACTERS else name[: NAME_CHARACTERS - 1] + "…"


def _wrapped(text: str) -> str:
    """Lines that fit the card: 60 letters, or about 30 Chinese characters with no line starting
    with a comma or a full stop (they stay at the end of the line before, as Chinese is set)."""
    if sum(unicodedata.east_asian_width(c) in "WF" for c in text) <= len(text) / 3:
        return "\n".join(textwrap.wrap(text, 60))
    lines = [""]
    for character in text:
        if len(lines[-1]) >= 30 and character not in NO_LINE_START:
            lines.append("")
        lines[-1] += character
    return "\n".join(lines)


@contextmanager
def _figure(size: tuple[float, float], *, serif: bool = False) -> Iterator[Figure]:
    """A figure drawn only in the packaged fonts, with no math parsing of "$" in names."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    sans, serif_name = _families()
    with _LOCK, mpl.rc_context({"font.family": [serif_name if serif else sans], "text.parse_math": False,
                                "axes.unicode_minus": False}):
        yield Figure(figsize=size, dpi=DPI, layout="constrained" if not serif else None)


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure)  # the figure draws on Agg from now on
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
