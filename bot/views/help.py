"""/help and the Help button: only what this person can do, in plain words, each with the button
that does it (the keys and labels of :mod:`bot.views.menu`)."""

from __future__ import annotations

from bot.domain.roles import ADMIN, BUILDING_LEADER, COORDINATOR, TEAM_LEADER
from bot.i18n import N_, Translate
from bot.views import menu

# (the action key whose label is ``{button}``, the sentence), by role, in the keyboard's order.
RESIDENT_HELP = (
    (menu.REQUEST, N_("<b>{button}</b>: tell us what you need (typing or a voice note); a volunteer will come "
                      "to help.")),
    (menu.MY, N_("<b>{button}</b>: see how your requests are going, or cancel one.")),
    (menu.LANGUAGE, N_("<b>{button}</b>: 中文 or English.")),
    (menu.MY_DATA, N_("<b>{button}</b> (under More): everything the bot keeps about you; <b>🗑</b> there erases "
                      "it.")),
)
JOIN_HELP = (menu.JOIN, N_("<b>{button}</b>: sign up to help your neighbours."))
VOLUNTEER_HELP = (
    (menu.OFF_DUTY, N_("<b>{button}</b> / <b>{other}</b>: pause new requests for a while, or take them again.")),
    (menu.HOURS, N_("<b>{button}</b>: the hours you have served this month, this year and in total.")),
    (menu.QUIET, N_("<b>{button}</b>: hours of the night when no reminders come (emergencies still do).")),
    (menu.POINTS, N_("<b>{button}</b>: your points for hours served, and a one-time code to use them at a "
                     "partner business.")),
    (menu.ACTIVITIES, N_("<b>{button}</b>: the activities you signed up for; sign up with the cards in your "
                         "team's group.")),
    (menu.PROFILE, N_("<b>{button}</b> (under More): your skills and when you can help.")),
)
ROLE_HELP: dict[str, tuple[tuple[str, str], ...]] = {
    TEAM_LEADER: ((menu.TEAM, N_("<b>{button}</b>: your team's members and its join link.")),
                  (menu.ACTIVITIES, N_("<b>{button}</b>: create an activity for your team, change or cancel it.")),
                  (menu.CHECKIN, N_("<b>{button}</b>: on the day of an activity, its check-in QR code and who "
                                    "has come."))),
    BUILDING_LEADER: (
        (menu.NEIGHBOUR, N_("<b>{button}</b>: ask for help for a neighbour who has no Telegram.")),
        (menu.BUILDING_LINK, N_("<b>{button}</b>: the link and QR code that bring your neighbours here.")),
    ),
    COORDINATOR: (
        (menu.ORDERS, N_("<b>{button}</b>: open requests, with buttons to send each to a team.")),
        (menu.TEAMS, N_("<b>{button}</b>: every team, its members and its join link.")),
        (menu.ACTIVITIES, N_("<b>{button}</b>: create an activity for any team, change or cancel it.")),
        (menu.MORE, N_("<b>{button}</b>: buildings, businesses, finding volunteers by skill, the roster.")),
    ),
    ADMIN: ((menu.APPOINT, N_("<b>{button}</b> (under More): how to appoint a coordinator.")),),
}


def help_text(roles: frozenset[str], on_duty: bool, translate: Translate) -> str:
    def label(key: str) -> str:
        return translate(menu.LABELS[key])

    lines = [translate(N_("Here is what you can do. Tap a button below; there is nothing to type."))]
    items = list(RESIDENT_HELP)
    if menu.is_volunteer(roles):
        items += VOLUNTEER_HELP
    else:
        items.append(JOIN_HELP)
    for role in (TEAM_LEADER, BUILDING_LEADER, COORDINATOR, ADMIN):
        if role in roles:
            items += ROLE_HELP[role]
    duty, other = (menu.OFF_DUTY, menu.ON_DUTY) if on_duty else (menu.ON_DUTY, menu.OFF_DUTY)
    for key, sentence in items:
        key = duty if key == menu.OFF_DUTY else key
        lines.append("• " + translate(sentence, button=label(key), other=label(other)))
    lines.append(translate(N_("You can also simply write or say what you need here, and I will offer to send it "
                              "as a request.")))
    return "\n".join(lines)
