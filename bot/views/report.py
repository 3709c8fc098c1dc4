"""What a report says (docs/measures.md): every rate as "numerator / denominator (share)", a rate
with nothing to divide by as "—", the unrated orders beside 满意率; and the ``/report`` buttons
(period, then place). The same text is what ``volunteer-loop report --format text`` prints."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.domain.measures import Measures, Period, Rate
from bot.i18n import N_, Translate
from bot.views import callbacks as cb
from bot.views.common import View, button, in_rows, inline
from storage.models import Team, User

RATE_NAMES = {
    "awareness": N_("Awareness (households reached / households)"),
    "volunteers_served": N_("Volunteers who served / approved volunteers"),
    "residents_ordered": N_("Households that asked for help / households reached"),
    "satisfaction": N_("Satisfied ratings / ratings given"),
    "unrated": N_("Not rated / ratings given plus not rated"),
    "response": N_("Accepted in time / requests"),
    "resolution": N_("Solved, not reopened / requests"),
}
PERIOD_CHOICES = {"this": N_("This month"), "last": N_("Last month"), "year": N_("This year")}
REPORT_TITLE = N_("📈 Report: {place}, {start} to {end}")
DISTRICT = N_("the whole district")
FIGURE = N_("{name}: {share}")  # a rate's line (Chinese takes a full-width colon)


def share(rate: Rate) -> str:
    """"12 / 40 (30.0%)", or "0 / 0 (—)" when there is nothing to divide by."""
    value = rate.value
    return f"{rate.numerator} / {rate.denominator} ({'—' if value is None else f'{value * 100:.1f}%'})"


def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def lines(measures: Measures, _: Translate) -> list[str]:
    out = [_(FIGURE, name=_(RATE_NAMES[name]), share=share(rate)) for name, rate in measures.rates().items()]
    out.append(_("Median minutes to accept: {accept}; to done: {done}",
                 accept=minutes(measures.median_accept_minutes), done=minutes(measures.median_done_minutes)))
    return out


def report_text(place: str, period: Period, measures: Measures, by_team: Sequence[tuple[str, Measures]],
                _: Translate) -> str:
    """The report as a message (HTML: the place's name escaped); teams one line each."""
    last = period.end.toordinal() - 1
    head = _(REPORT_TITLE, place=place or _(DISTRICT), start=period.start.isoformat(),
             end=type(period.start).fromordinal(last).isoformat())
    body = [head, *lines(measures, _)]
    if len(by_team) > 1:
        body.append("")
        body.append(_("By team (satisfied / response / solved):"))
        body += [f"• {html.escape(code)}: {share(m.satisfaction)}; {share(m.response)}; {share(m.resolution)}"
                 for code, m in by_team]
    return "\n".join(body)


class ReportView(View):
    async def periods(self, reader: User) -> None:
        _ = self.tr(reader)
        rows = [[button(_(PERIOD_CHOICES[p]), cb.REPORT_PERIOD, p) for p in cb.REPORT_PERIODS]]
        await self.tell(reader, N_("📈 A report of which period?"), markup=inline(rows))

    async def places(self, reader: User, period: str, communities: Sequence[str], teams: Sequence[Team],
                     district: bool) -> None:
        """The places a reader may choose: the district and communities (a coordinator), teams."""
        _ = self.tr(reader)
        choices = []
        if district:
            choices.append(button(_(DISTRICT), cb.REPORT_PLACE, period, "d", 0))
            choices += [button(name, cb.REPORT_PLACE, period, "c", index) for index, name in enumerate(communities)]
        choices += [button(team.name, cb.REPORT_PLACE, period, "t", team.id) for team in teams]
        await self.tell(reader, N_("📈 A report of which place?"), markup=inline(in_rows(choices, 2)))

    async def report(self, reader: User, place: str, period: Period, measures: Measures,
                     by_team: Sequence[tuple[str, Measures]]) -> None:
        await self.out.send(reader.telegram_id, report_text(place, period, measures, by_team, self.tr(reader)),
                            recipient=reader)
