"""The private keyboard per role combination: short, the right buttons for the roles held, every
command of those roles reachable by a button, and /help naming only what the person can do."""

from __future__ import annotations

import itertools

import pytest

from bot.adapters.handlers import menu as menu_handlers
from bot.domain.roles import (
    ADMIN,
    BUILDING_LEADER,
    BUSINESS,
    COORDINATOR,
    RESIDENT,
    TEAM_LEADER,
    VOLUNTEER,
    menu_key,
    roles_in_key,
)
from bot.i18n import I18n
from bot.services.roles import menu as command_menu
from bot.views import callbacks as cb
from bot.views import menu
from bot.views.help import help_text
from tests.unit.views.test_views import person, views

I18N = I18n()
ZH, EN = I18N.translator("zh"), I18N.translator("en")
EXTRA_ROLES = (VOLUNTEER, BUSINESS, TEAM_LEADER, BUILDING_LEADER, COORDINATOR, ADMIN)
COMBINATIONS = [frozenset({RESIDENT, *extra}) for n in range(len(EXTRA_ROLES) + 1)
                for extra in itertools.combinations(EXTRA_ROLES, n)
                if TEAM_LEADER not in extra or VOLUNTEER in extra or BUSINESS in extra]  # a leader is a member


def labels(roles: frozenset[str], on_duty: bool = True, translate: object = ZH) -> list[list[str]]:
    markup = menu.keyboard(roles, on_duty, ZH if translate is ZH else EN)
    return [[b["text"] for b in row] for row in markup["keyboard"]]


def flat(rows: list[list[str]]) -> list[str]:
    return [label for row in rows for label in row]


@pytest.mark.parametrize("roles", COMBINATIONS, ids=lambda r: "+".join(sorted(r)))
@pytest.mark.parametrize("on_duty", [True, False])
def test_the_keyboard_stays_short_and_reaches_every_command(roles: frozenset[str], on_duty: bool) -> None:
    rows = menu.keyboard_keys(roles, on_duty)
    assert len(rows) <= 4 and all(1 <= len(row) <= 3 for row in rows)
    assert rows[0] == [menu.REQUEST, menu.MY] and rows[-1][:2] == [menu.HELP, menu.LANGUAGE]
    shown = [key for row in rows for key in row]
    more = menu.role_actions(roles, on_duty)[1]
    assert len(set(shown)) == len(shown) and not set(shown) & set(more)
    assert (menu.MORE in shown) == bool(more)
    reachable = {command for key in shown + more for command in menu.COMMANDS[key]}
    commands = {c["command"] for c in command_menu(roles, EN)}
    assert commands <= reachable, commands - reachable
    pressable = set(menu_handlers.ACTIONS) | {menu.REQUEST, menu.MY, menu.LANGUAGE}
    assert set(shown + more) <= pressable


def test_a_resident_sees_the_plain_four_and_join() -> None:
    assert labels(frozenset({RESIDENT})) == [["🆘 我要求助", "📋 我的求助"], ["🙋 加入志愿者"],
                                             ["❓ 帮助", "🌐 语言", "⋯ 更多"]]
    assert menu.role_actions(frozenset({RESIDENT}), True)[1] == [menu.MY_DATA, menu.FORGET]  # everyone's own data


def test_a_volunteer_sees_the_duty_button_that_applies_and_no_join() -> None:
    on = labels(frozenset({RESIDENT, VOLUNTEER}), on_duty=True)
    off = labels(frozenset({RESIDENT, VOLUNTEER}), on_duty=False)
    assert on[1] == ["⏸ 暂停接单", "⏱ 我的服务时长", "🌙 免打扰时段"]
    assert off[1] == ["✅ 可接单", "⏱ 我的服务时长", "🌙 免打扰时段"]
    assert on[-1] == ["❓ 帮助", "🌐 语言", "⋯ 更多"]  # the profile and another team's /join
    assert menu.role_actions(frozenset({RESIDENT, VOLUNTEER}), True)[1] == [menu.PROFILE, menu.JOIN, menu.MY_DATA,
                                                                             menu.FORGET]


def test_a_building_leader_gets_the_neighbour_request_and_the_building_code() -> None:
    shown = flat(labels(frozenset({RESIDENT, BUILDING_LEADER})))
    assert "🏠 帮邻居求助" in shown and "🏢 本楼二维码" in shown and "🙋 加入志愿者" in shown
    english = flat(labels(frozenset({RESIDENT, BUILDING_LEADER}), translate=EN))
    assert "🏠 Help a neighbour" in english


def test_a_coordinator_gets_the_open_requests_and_the_centre_behind_more() -> None:
    roles = frozenset({RESIDENT, COORDINATOR})
    assert "📥 待派单" in flat(labels(roles))
    assert menu.role_actions(roles, True)[1] == [*menu.CENTRE_MORE, menu.MY_DATA, menu.FORGET]


def test_every_role_at_once_still_fits() -> None:
    everything = frozenset({RESIDENT, *EXTRA_ROLES})
    primary, more = menu.role_actions(everything, True)
    assert len(primary) == menu.PER_ROW * menu.ROLE_ROWS and primary[:3] == [menu.OFF_DUTY, menu.NEIGHBOUR, menu.ORDERS]
    assert menu.APPOINT in more and menu.BUILDING_LINK in more  # overflow goes behind More


def test_the_menu_key_names_the_roles_back() -> None:
    roles = frozenset({RESIDENT, VOLUNTEER, BUILDING_LEADER})
    assert roles_in_key(menu_key(roles, "zh")) == roles
    assert roles_in_key("") == roles_in_key(None) == {RESIDENT}
    assert roles_in_key("en:resident,nonsense") == {RESIDENT}


def test_help_names_only_what_the_person_can_do() -> None:
    resident = help_text(frozenset({RESIDENT}), True, ZH)
    volunteer = help_text(frozenset({RESIDENT, VOLUNTEER}), False, ZH)
    leader = help_text(frozenset({RESIDENT, BUILDING_LEADER}), True, ZH)
    assert "加入志愿者" in resident and "暂停接单" not in resident and "帮邻居求助" not in resident
    assert "<b>✅ 可接单</b> / <b>⏸ 暂停接单</b>" in volunteer and "加入志愿者" not in volunteer
    assert "帮邻居求助" in leader and "本楼二维码" in leader and "待派单" not in leader
    assert "派给服务队" in help_text(frozenset({RESIDENT, COORDINATOR}), True, ZH)


async def test_the_keyboard_follows_the_roles_remembered_for_the_person() -> None:
    tell, outbox = views()
    volunteer = person(5, language="zh")
    volunteer.on_duty = True
    volunteer.menu_roles = menu_key(frozenset({RESIDENT, VOLUNTEER}), "zh")
    await tell.resident.help(volunteer)
    keyboard = outbox.rows[-1].payload["reply_markup"]["keyboard"]
    assert keyboard[1][0]["text"] == "⏸ 暂停接单"
    assert "⏱ 我的服务时长" in outbox.texts()[-1]


async def test_the_offer_keeps_the_text_out_of_its_buttons() -> None:
    tell, outbox = views()
    resident = person(6, language="zh")
    await tell.resident.offer_request(resident, "水管漏水 13812345678")
    row = outbox.rows[-1]
    buttons = [b for r in row.payload["reply_markup"]["inline_keyboard"] for b in r]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [("是，发求助", cb.OFFER_YES), ("不用了", cb.OFFER_NO)]
    assert "水管漏水" in outbox.texts()[-1]
