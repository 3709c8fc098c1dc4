"""The private chat's reply keyboard, drawn from the person's roles: every routine action is a
button, so nobody needs to type a command (the commands stay as shortcuts).

Each action has a key (:data:`LABELS`); the Telegram side maps a pressed label, or a tap on the
"More" menu (callback :data:`bot.views.callbacks.MORE` with the key), to the same service call.
The keyboard stays short: the resident's row, at most two rows of role actions (three a row), and
Help / Language / More; anything else waits behind More, an inline menu.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.roles import ADMIN, BUILDING_LEADER, BUSINESS, COORDINATOR, TEAM_LEADER, VOLUNTEER
from bot.i18n import N_, Translate
from bot.views import callbacks as cb
from bot.views.common import MENU_LANGUAGE, MENU_MY_ORDERS, MENU_NEW_REQUEST, button, in_rows, inline
from bot.views.port import Markup

# Action keys (also the argument of the More menu's buttons, see callbacks.MORE_ACTIONS).
REQUEST, MY, LANGUAGE, HELP, MORE = "request", "my", "language", "help", "more"
JOIN, ON_DUTY, OFF_DUTY, QUIET, HOURS, PROFILE = "join", "onduty", "offduty", "quiet", "hours", "profile"
TEAM, TEAMS, NEIGHBOUR, BUILDING_LINK = "team", "teams", "neighbour", "buildinglink"
ORDERS, BUILDINGS, BUSINESSES, FIND, ROSTER, APPOINT = "orders", "buildings", "businesses", "find", "roster", "appoint"
ROUTES, ACTIVITIES, CHECKIN = "routes", "activities", "checkin"
TEAM_HOURS, HOURS_EXPORT, HOURS_ADMIN = "teamhours", "hoursexport", "hoursadmin"
STARS = "stars"
POINTS, REDEMPTIONS, HISTORY = "points", "redemptions", "history"
REPORT, HOUSEHOLDS = "report", "households"
MY_DATA, FORGET = "mydata", "forget"

LABELS: dict[str, str] = {
    REQUEST: MENU_NEW_REQUEST, MY: MENU_MY_ORDERS, LANGUAGE: MENU_LANGUAGE, HELP: N_("❓ Help"),
    MORE: N_("⋯ More"), JOIN: N_("🙋 Become a volunteer"), ON_DUTY: N_("✅ Take requests"),
    OFF_DUTY: N_("⏸ Pause requests"), QUIET: N_("🌙 Quiet hours"), HOURS: N_("⏱ My service hours"),
    PROFILE: N_("🪪 My volunteer profile"), TEAM: N_("👥 My team"), TEAMS: N_("👥 Teams"),
    NEIGHBOUR: N_("🏠 Help a neighbour"),
    BUILDING_LINK: N_("🏢 My building's QR code"), ORDERS: N_("📥 Requests to dispatch"),
    BUILDINGS: N_("🏘 Buildings"), BUSINESSES: N_("🏪 Businesses"), FIND: N_("🔎 Find volunteers"),
    ROSTER: N_("📒 Export the roster"), APPOINT: N_("👤 Appoint a coordinator"), ROUTES: N_("🧭 Routing rules"),
    ACTIVITIES: N_("📅 Activities"),
    CHECKIN: N_("📍 Activity check-in"),
    TEAM_HOURS: N_("📊 My team's hours"), HOURS_EXPORT: N_("📤 Export service hours"),
    HOURS_ADMIN: N_("🏅 Honour hours and corrections"),
    STARS: N_("🌟 Volunteer stars"),
    POINTS: N_("🎁 Use my points"), REDEMPTIONS: N_("🎁 Points at businesses"), HISTORY: N_("📜 Request history"),
    REPORT: N_("📈 Reports"), HOUSEHOLDS: N_("🏠 Households"),
    MY_DATA: N_("🔒 My data"), FORGET: N_("🗑 Erase my data"),
}
# Which commands each key stands for (README's table; a test checks that every command of a role's
# menu has its button). The duty button is whichever of the two applies; a coordinator's /team
# lists every team; /dispatch is the Dispatch buttons on the cards /orders shows.
COMMANDS: dict[str, tuple[str, ...]] = {
    REQUEST: ("request",), MY: ("my",), LANGUAGE: ("language",), HELP: ("help", "start"), JOIN: ("join",),
    ON_DUTY: ("onduty", "offduty"), OFF_DUTY: ("onduty", "offduty"), QUIET: ("quiet",), PROFILE: ("profile",),
    TEAM: ("team",), TEAMS: ("team",),
    NEIGHBOUR: ("neighbour",), BUILDING_LINK: ("building",), ORDERS: ("orders", "dispatch"),
    BUILDINGS: ("building",), BUSINESSES: ("businesses",), FIND: ("find",), ROSTER: ("roster",),
    APPOINT: ("coordinator",), ROUTES: ("routes",), ACTIVITIES: ("activities",), CHECKIN: ("checkin",), HOURS: (),
    MORE: (), TEAM_HOURS: ("teamhours",), HOURS_EXPORT: ("hoursexport",),
    HOURS_ADMIN: ("honour", "correct", "ledger", "certificate"), STARS: ("stars",),
    POINTS: ("points",), REDEMPTIONS: ("redemptions",), HISTORY: ("history",),
    REPORT: ("report",), HOUSEHOLDS: ("households",),
    MY_DATA: ("mydata",), FORGET: ("forget",),
}
# Labels of earlier releases, still on keyboards in people's chats until their next refresh: read
# as the action they meant (never offered as a request's text).
RETIRED_LABELS: dict[str, tuple[str, ...]] = {MY: ("📋 我的订单",)}
PER_ROW, ROLE_ROWS = 3, 2
VOLUNTEERS = frozenset({VOLUNTEER, BUSINESS})
# The coordinators' secondary actions, behind More. A new command gets a key, its label in LABELS,
# its commands in COMMANDS and the service call in bot.adapters.handlers.menu.ACTIONS
# (tests/unit/views/test_menu.py fails while a command of a role's menu has no button).
CENTRE_MORE = (REPORT, CHECKIN, ROUTES, BUILDINGS, BUSINESSES, FIND, ROSTER, HOURS_EXPORT, HOURS_ADMIN, HOUSEHOLDS,
               STARS, REDEMPTIONS, HISTORY)


def is_volunteer(roles: frozenset[str]) -> bool:
    return bool(roles & VOLUNTEERS)


def role_actions(roles: frozenset[str], on_duty: bool) -> tuple[list[str], list[str]]:
    """The keys of the role actions of ``roles``: (on the keyboard, behind More), in priority order."""
    primary: list[str] = []
    more: list[str] = []
    volunteer = is_volunteer(roles)
    if volunteer:
        primary.append(OFF_DUTY if on_duty else ON_DUTY)
    if BUILDING_LEADER in roles:
        primary.append(NEIGHBOUR)
    if COORDINATOR in roles:
        primary += [ORDERS, TEAMS]  # every team, their own among them
    elif TEAM_LEADER in roles:
        primary += [TEAM, CHECKIN]
    if volunteer:
        primary += [HOURS, QUIET]
        more += [PROFILE, JOIN]  # another team
    else:
        primary.append(JOIN)
    if volunteer or COORDINATOR in roles:
        primary.append(ACTIVITIES)
    if volunteer:
        primary.append(POINTS)  # on a full keyboard (a team leader's) it waits behind More
    if TEAM_LEADER in roles:
        more.append(TEAM_HOURS)
        if COORDINATOR not in roles:
            more.append(REPORT)
    if BUILDING_LEADER in roles:
        primary.append(BUILDING_LINK)
    if COORDINATOR in roles:
        more += CENTRE_MORE
    if ADMIN in roles:
        more.append(APPOINT)
    more += [MY_DATA, FORGET]  # everyone's own data (docs/privacy.md)
    room = PER_ROW * ROLE_ROWS
    return primary[:room], primary[room:] + more


def keyboard_keys(roles: frozenset[str], on_duty: bool) -> list[list[str]]:
    """The reply keyboard's rows, as action keys."""
    primary, more = role_actions(roles, on_duty)
    last = [HELP, LANGUAGE] + ([MORE] if more else [])
    return [[REQUEST, MY], *(primary[i:i + PER_ROW] for i in range(0, len(primary), PER_ROW)), last]


def keyboard(roles: frozenset[str], on_duty: bool, translate: Translate) -> Markup:
    rows = [[{"text": translate(LABELS[key])} for key in row] for row in keyboard_keys(roles, on_duty)]
    return {"keyboard": rows, "resize_keyboard": True, "is_persistent": True}


def more_menu(keys: Sequence[str], translate: Translate) -> Markup:
    return inline(in_rows([button(translate(LABELS[k]), cb.MORE, k) for k in keys], 2))
