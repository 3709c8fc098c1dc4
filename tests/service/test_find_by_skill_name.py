"""/find takes a skill by its code, by its name in Chinese or English, or by a common synonym
(维修, Repair, 修理 all find the repair volunteers); anything else is refused with the skills'
names in the reader's language."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain.errors import InvalidInput
from bot.i18n import I18n
from bot.services import people
from bot.services.context import ServiceConfig
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from bot.views.common import CATEGORY_NAMES, skill_code
from storage.models import OutboxMessage, Volunteer
from tests.support.dbfixtures import UowFactory

I18N = I18n()
SKILLS = tuple(DEFAULT_CATEGORIES)
CONFIG = ServiceConfig(categories=SKILLS)
COCO, VERA = 1, 2


async def find(uow_factory: UowFactory, language: str, typed: str) -> str:
    """What the coordinator reads after ``/find typed`` (a list, or the refusal's text)."""
    async with uow_factory() as uow:
        coordinator = await uow.users.ensure(COCO, "Coco", language)
        coordinator.is_coordinator = True
        if await uow.teams.by_code("repair") is None:
            team = await uow.teams.add("repair", "维修队", ["repair"])
            vera = await uow.users.ensure(VERA, "Vera", "zh")
            uow.session.add(Volunteer(user_id=vera.id, team_id=team.id, name="Vera Li", phone="+8613800138000",
                                      status="approved", skills=["repair"], created_at=uow.now()))
        await uow.commit()
    async with uow_factory() as uow:
        coordinator = await uow.users.ensure(COCO, "Coco", language)
        try:
            await people.find_volunteers(service_context(uow, coordinator, i18n=I18N, config=CONFIG), typed, None)
        except InvalidInput as refused:
            return I18N.gettext(language, refused.message, **refused.params)
    async with uow_factory() as uow:
        row = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()))).first()
        assert row is not None
        return str(row.payload["text"])


@pytest.mark.parametrize(("language", "typed"), [("zh", "维修"), ("zh", "修理"), ("zh", "repair"),
                                                 ("en", "Repair"), ("en", "维修"), ("en", " REPAIR ")])
async def test_find_by_the_skills_name_in_either_language(uow_factory: UowFactory, language: str,
                                                          typed: str) -> None:
    text = await find(uow_factory, language, typed)
    assert text.splitlines()[0] == I18N.gettext(language, "Volunteers for {skill}:",
                                                skill=I18N.gettext(language, "Repair"))
    assert "Vera Li" in text


@pytest.mark.parametrize(("language", "names"), [
    ("zh", "代购配送、生活照料、咨询、维修、技能培训、纠纷调解、🚨紧急求助、其他"),
    ("en", "Delivery, Housekeeping, Consulting, Repair, Training, Mediation, Emergency, Other")])
async def test_an_unknown_skill_is_refused_with_the_names_to_use(uow_factory: UowFactory, language: str,
                                                                 names: str) -> None:
    text = await find(uow_factory, language, "园艺")
    assert text == I18N.gettext(language, "Skills are: {known}.", known=names)


def test_names_synonyms_and_codes_map_to_the_code() -> None:
    assert skill_code(I18N, "代购配送", SKILLS) == "delivery"
    assert skill_code(I18N, "跑腿", SKILLS) == "delivery"
    assert skill_code(I18N, "紧急求助", SKILLS) == "emergency"  # the 🚨 of its name need not be typed
    assert skill_code(I18N, "Mediation", SKILLS) == "mediation"
    assert skill_code(I18N, "维修", ("delivery",)) is None  # not a skill this service offers
    assert skill_code(I18N, "", SKILLS) is None


@given(st.sampled_from(SKILLS), st.sampled_from(["zh", "en"]), st.text(alphabet=" \t", max_size=3), st.booleans())
def test_every_skill_is_found_by_its_name_in_either_language(code: str, language: str, padding: str,
                                                             upper: bool) -> None:
    name = I18N.gettext(language, CATEGORY_NAMES[code])
    assert skill_code(I18N, padding + (name.upper() if upper else name) + padding, SKILLS) == code
    assert skill_code(I18N, code, SKILLS) == code
