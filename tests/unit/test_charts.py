"""Charts and the star certificate read in Chinese on any machine: every string drawn is set in a
font the install brings (pylopdf-fonts-zh-cn), every character of it is in that font's cmap, and
matplotlib's "Glyph … missing" warning (an error here) never fires; the PNGs decode to the
expected size and are not blank."""

from __future__ import annotations

import ast
import datetime as dt
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pylopdf_fonts_zh_cn
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import RendererAgg
from PIL import Image

from bot.domain import measures as m
from bot.domain.measures import RATE_KEYS, RATE_NAMES, Rate
from bot.i18n import LANGUAGES, I18n
from bot.views import charts
from bot.views.common import month_label

I18N = I18n()
PACKAGED = {Path(pylopdf_fonts_zh_cn.sans_path()).resolve(), Path(pylopdf_fonts_zh_cn.serif_path()).resolve()}
RARE_NAME = "王璐燚赟"  # 璐, 燚 and 赟: in few fonts but in names
TEAMS = ("阳光社区服务队", "璐园助老队", "燚火维修队", "赟星小分队")


@dataclass(frozen=True)
class Drawn:
    text: str
    font: Path  # the file the text's FontProperties resolved to


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Drawn]:
    """Every string the Agg renderer draws, with the font file it is drawn in (matplotlib's own
    renderer, wrapped: it still draws)."""
    seen: list[Drawn] = []
    original = RendererAgg.draw_text

    def recording(self: RendererAgg, gc: object, x: float, y: float, s: str, prop: font_manager.FontProperties,
                  *args: object, **kwargs: object) -> None:
        seen.append(Drawn(s, Path(font_manager.findfont(prop, fallback_to_default=False)).resolve()))
        original(self, gc, x, y, s, prop, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(RendererAgg, "draw_text", recording)
    return seen


@pytest.fixture(scope="module")
def cmaps() -> dict[Path, set[int]]:
    """The code points each packaged font has, read with fontTools (not matplotlib)."""
    cmaps = {}
    for path in PACKAGED:
        with TTFont(path, lazy=True) as font:
            cmaps[path] = set(font.getBestCmap())
    return cmaps


def months(_: Callable[..., str]) -> list[tuple[str, dict[str, Rate]]]:
    series = []
    for month in range(6, 12):
        rates = {m.AWARENESS: Rate(30 + 5 * month, 100), m.PARTICIPATION: Rate(month, 20),
                 m.SATISFACTION: Rate(9, 10), m.RESPONSE: Rate(7 * month, 80), m.RESOLUTION: Rate(40, 50)}
        if month == 9:
            rates[m.SATISFACTION] = Rate(0, 0)  # nobody rated: a gap
        series.append((month_label(_, dt.date(2026, month, 1)), rates))
    return series


def teams() -> list[tuple[str, dict[str, Rate]]]:
    return [(team, {m.AWARENESS: Rate(7 * k, 100), m.PARTICIPATION: Rate(k, 10), m.SATISFACTION: Rate(9, 10),
                    m.RESPONSE: Rate(0, 0) if k == 2 else Rate(5, 8), m.RESOLUTION: Rate(4, 5)})
            for k, team in enumerate(TEAMS, 1)]


def render(kind: str, language: str) -> bytes:
    _ = I18N.translator(language)
    if kind == "rates":
        return charts.rates_by_month(months(_), _)
    if kind == "teams":
        return charts.teams_side_by_side(teams(), _)
    return charts.star_certificate(RARE_NAME, TEAMS[0], month_label(_, dt.date(2026, 11, 1)), 23.5, 14,
                                   "满意率 96%（24/25）", _, issuer="幸福街道志愿服务中心")


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


def assert_not_blank(image: Image.Image) -> None:
    """Far more than a background: thousands of pixels away from the most common colour."""
    rgb = image.convert("RGB")
    counts = rgb.getcolors(maxcolors=rgb.width * rgb.height) or []
    background = max(counts)[0]
    assert rgb.width * rgb.height - background > 20_000


def test_the_font_comes_with_the_install_under_an_open_licence() -> None:
    info = metadata.metadata("pylopdf-fonts-zh-cn")
    assert "License :: OSI Approved :: SIL Open Font License 1.1 (OFL-1.1)" in info.get_all("Classifier", [])
    assert {charts.SANS_FONT.resolve(), charts.SERIF_FONT.resolve()} == PACKAGED
    for path in PACKAGED:
        assert path.is_file() and path.is_relative_to(Path(pylopdf_fonts_zh_cn.__file__).resolve().parent)
        assert "site-packages" in path.parts or "dist-packages" in path.parts  # installed, not a system font
        with TTFont(path, lazy=True) as font:
            assert font["name"].getDebugName(1) in {"Noto Sans SC", "Noto Serif SC"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("kind", "size"), [("rates", (1080, 600)), ("teams", (1080, 600)),
                                            ("certificate", (1200, 840))])
def test_every_character_drawn_is_in_the_packaged_font(kind: str, size: tuple[int, int], language: str,
                                                       drawn: list[Drawn], cmaps: dict[Path, set[int]]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" fails here, whatever pytest's filters
        png = render(kind, language)
    image = decoded(png)
    assert image.size == size
    assert_not_blank(image)
    assert drawn, "the renderer drew no text"
    assert {d.font for d in drawn} <= PACKAGED  # resolved to the wheel's files, never a system font
    missing = {(d.text, c) for d in drawn for c in d.text if not c.isspace() and ord(c) not in cmaps[d.font]}
    assert missing == set()
    texts = {d.text for d in drawn}
    _ = I18N.translator(language)
    if kind == "certificate":
        assert RARE_NAME in texts
        assert _(charts.CERTIFICATE_TITLE) in texts and _(charts.STAR_TITLE) in texts
    else:
        assert {_(RATE_NAMES[key]) for key in RATE_KEYS} <= texts  # the legend: every rate, translated
        assert (set(TEAMS) if kind == "teams" else {label for label, _r in months(_)}) <= texts


def test_the_chinese_labels_are_the_chinese_words(drawn: list[Drawn]) -> None:
    charts.rates_by_month(months(I18N.translator("zh")), I18N.translator("zh"))
    assert {"知晓率", "参与率", "满意率", "响应率", "解决率", "2026年11月"} <= {d.text for d in drawn}


@pytest.mark.filterwarnings("error")
def test_a_glyph_the_font_lacks_fails_loudly() -> None:
    """The guard can fail: a label with a character no packaged font has (an emoji) warns."""
    def with_emoji(message: str, **params: object) -> str:
        return I18N.gettext("zh", message, **params) + "🙂"

    series = months(with_emoji)
    with pytest.raises(UserWarning, match=r"Glyph .* missing from font\(s\) Noto Sans SC"):
        charts.rates_by_month(series, with_emoji)


def test_what_people_typed_loses_only_what_the_font_cannot_draw(drawn: list[Drawn]) -> None:
    _ = I18N.translator("zh")
    png = charts.star_certificate(f"🌟{RARE_NAME}👍🏻", "🏠阳光队", "2026年11月", 2, 1, "😊满意", _)
    texts = {d.text for d in drawn}
    assert RARE_NAME in texts and "满意" in texts
    assert not any("🌟" in t or "😊" in t or "🏠" in t for t in texts)
    assert_not_blank(decoded(png))


def test_names_are_text_not_math_and_long_names_are_cut(drawn: list[Drawn]) -> None:
    _ = I18N.translator("en")
    charts.star_certificate("Li $x^2$ " + "长" * 40, "", "11/2026", 0.25, 0, "", _)
    texts = {d.text for d in drawn}
    assert "Li $x^2$ " + "长" * 10 + "…" in texts  # no mathtext, 20 characters at most
    assert "0.25 h" in texts and "0 times" in texts
    lines = " ".join(d.text for d in drawn)  # Agg draws a wrapped text line by line
    assert _(charts.STAR_TEXT_NO_TEAM).format(month="11/2026") in lines


def test_a_rate_with_nothing_to_divide_by_is_a_gap_not_zero() -> None:
    series = [("10月", {m.SATISFACTION: Rate(0, 0), m.RESPONSE: Rate(0, 4)}), ("11月", {m.SATISFACTION: Rate(3, 4)})]
    assert charts.rate_points(series) == {m.SATISFACTION: [None, 75.0], m.RESPONSE: [0.0, None]}


def test_a_team_with_nothing_to_count_shows_a_dash(drawn: list[Drawn]) -> None:
    rows = [("璐园助老队", {m.RESPONSE: Rate(0, 0), m.RESOLUTION: Rate(1, 2)})]
    charts.teams_side_by_side(rows, I18N.translator("zh"))
    texts = [d.text for d in drawn]
    assert texts.count("—") == 1 and "50" in texts  # the bar that exists is labelled, the missing one dashed


@pytest.mark.parametrize("draw", [charts.rates_by_month, charts.teams_side_by_side])
def test_no_data_yet_is_said_not_drawn_blank(draw: Callable[..., bytes], drawn: list[Drawn]) -> None:
    _ = I18N.translator("zh")
    image = decoded(draw([], _))
    assert image.size == (1080, 600)
    assert _(charts.NOTHING_YET) in {d.text for d in drawn}


def test_many_teams_make_a_wider_chart() -> None:
    rows = [(f"第{n}队", {m.RESOLUTION: Rate(n, 12)}) for n in range(1, 13)]
    assert decoded(charts.teams_side_by_side(rows, I18N.translator("zh"))).size == (1800, 600)


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    """Start-up does not pay for matplotlib: the module imports it inside its functions only."""
    tree = ast.parse(Path(charts.__file__).read_text(encoding="utf-8"))
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    names = {alias.name for node in top if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in top if isinstance(node, ast.ImportFrom)}
    assert names and not {n for n in names if n.split(".")[0] in {"matplotlib", "PIL", "fontTools", "numpy"}}


def test_a_year_of_months_and_a_rate_above_100_percent_still_draw(drawn: list[Drawn]) -> None:
    _ = I18N.translator("zh")
    series = [(month_label(_, dt.date(2026, n, 1)), {m.RESPONSE: Rate(n, 10)}) for n in range(1, 13)]
    assert_not_blank(decoded(charts.rates_by_month(series, _)))
    assert {"2026年1月", "2026年12月", "120%"} <= {d.text for d in drawn}  # every month labelled, y reaches 120 %
