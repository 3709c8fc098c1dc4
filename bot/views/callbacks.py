"""Callback data: short ``prefix:arg:arg`` strings, well under Telegram's 64 bytes, holding ids
only — never personal data.

Every action declares its shape in :data:`SHAPES` — how many parts and what each part is — and
both directions use it: :func:`pack` refuses to build anything else, :func:`unpack` reads a tap
strictly against it and returns typed values (None for anything we could not have made: a forged
number out of range, a missing or extra part). Whatever a button claims is still re-checked by the
service it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import activities, profile, request_steps
from bot.domain.arguments import DATABASE_ID, DATABASE_ID_MAX, TOKEN, Number, OneOf, Part, Value
from bot.i18n import LANGUAGES

MAX_BYTES = 64


@dataclass(frozen=True)
class Button:
    """A parsed tap: ``action`` plus its arguments, typed as the action's shape declares."""

    action: str
    args: tuple[Value, ...]

    def int_arg(self, index: int) -> int:
        value = self.args[index]
        assert isinstance(value, int), (self.action, index)
        return value

    def str_arg(self, index: int) -> str:
        value = self.args[index]
        assert isinstance(value, str), (self.action, index)
        return value


# Actions: resident dialog, orders, dispatch, volunteers, rating, people, settings.
# The request dialog's buttons carry their draft's number (first part), so a button of an earlier
# draft is refused; the service checks the step too.
CATEGORY, WHEN, CONFIRM, EDIT, EDIT_FIELD, ABORT = "cat", "when", "ok", "edit", "field", "abort"
OTHER_ADDRESS = "addr"
CANCEL_ORDER, DISPATCH, REJECT, REJECT_REASON = "cancel", "send", "reject", "why"
ACCEPT, ON_WAY, DONE, RELEASE, HOURS, KEEP = "acc", "way", "done", "rel", "hours", "keep"
RATE, SKIP_COMMENT = "rate", "skip"
JOIN_TEAM, APPROVE, DENY, LANGUAGE = "team", "approve", "deny", "lang"
# Registration and profile: pick (step, value), done with a step (step), edit a profile field (field).
JOIN_PICK, JOIN_DONE, PROFILE_EDIT = "pick", "picked", "profile"
# Routing rules: the list, add (kind of help, community's index, team), delete; a voice note to listen to.
ROUTE_ADD, ROUTE_CATEGORY, ROUTE_COMMUNITY, ROUTE_TEAM = "radd", "rcat", "rcom", "rteam"
ROUTE_DELETE, LISTEN = "rdel", "listen"
# Lists: show page (page) of the list message whose outbox row is (row).
PAGE = "page"
# The private menu: an action behind "More" (its key), a skill to find volunteers by, preset quiet
# hours, and the offer to turn text typed outside a dialog into a request (the text stays in the
# person's dialog row, never in the button).
MORE, FIND_SKILL, QUIET_SET, OFFER_YES, OFFER_NO = "more", "skill", "quiet", "offer", "nooffer"
# Team activities: sign up / cancel my place (activity); the creation dialog: new, the team, a choice
# of a step (step, choice), announce to another team too (team), publish, abort; a leader's change of
# a field (activity, field), cancel (activity) and its confirmation.
ACT_SIGN_UP, ACT_WITHDRAW, ACT_NEW, ACT_TEAM, ACT_PICK = "asu", "awd", "anew", "ateam", "apick"
ACT_ALSO, ACT_PUBLISH, ACT_ABORT, ACT_CHANGE, ACT_CANCEL, ACT_CANCEL_SURE = (
    "aalso", "apub", "aabort", "achg", "acx", "acxok")
ACT_MANAGE = "aman"
# Attendance at an activity: a leader opens its check-in (activity), refreshes the list (activity),
# marks someone present (their sign-up row), finishes it (activity; asked first, then confirmed); a
# volunteer checks out (activity).
CHECKIN_SHOW, CHECKIN_LIST, CHECKIN_MARK, CHECKIN_FINISH = "atshow", "atlist", "atmark", "atend"
CHECKIN_FINISH_YES, CHECK_OUT = "atendok", "atout"
# Service hours: a certificate of a period (the person's own), the registry export of a month.
HOURS_CERTIFICATE, HOURS_EXPORT, HONOUR_HOURS = "hcert", "hexp", "hhon"
# Recognition (典型推介): a coordinator approves or skips a nomination (its row).
NOMINATION_APPROVE, NOMINATION_SKIP = "nmok", "nmno"
# Points: a business's amount for a code (code row, points), its confirmation (code row, points), cancel.
PAY_AMOUNT, PAY_OK, PAY_NO = "pamt", "pok", "pno"
# An order's history for a coordinator (order); its export without personal data (order).
HISTORY = "hist"
HISTORY_EXPORT = "histx"
# Reports: a period, then a place (period, kind d|c|t, 0 | a community's index | a team id).
REPORT_PERIOD, REPORT_PLACE = "rep", "repat"
# /forget's answer: the question's own outbox row (checked: sent to the person who taps), 1 yes / 0 no.
FORGET = "fgt"
# Codes of earlier releases, still on buttons in people's chats: read as the action they meant.
RETIRED = {"cx": CANCEL_ORDER, "d": DISPATCH, "rj": REJECT, "rr": REJECT_REASON, "h": HOURS, "ef": EDIT_FIELD,
           "jt": JOIN_TEAM, "va": APPROVE, "vd": DENY, "jp": JOIN_PICK, "jd": JOIN_DONE, "pe": PROFILE_EDIT,
           "pg": PAGE}

DRAFT = Number(1, DATABASE_ID_MAX)  # a person's request draft, counted from 1 (users.request_drafts)
HOUR_CHOICES = ("0.5", "1", "2", "3", "4")
QUIET_CHOICES = ("22-7", "21-8", "off")
CERTIFICATE_PERIODS = ("month", "year", "lastyear")
EXPORT_MONTHS = ("this", "last")
HONOUR_CHOICES = ("1", "2", "4", "8")
REPORT_PERIODS = ("this", "last", "year")
REPORT_PLACES = ("d", "c", "t")  # the district, a community (its index), a team (its id)
STARS = Number(0, 5)  # 0: "not solved"
PAGE_NUMBER = Number(0, 9999)  # pages count from 0
POINTS = Number(1, 100_000)  # bot.domain.points.MAX_AMOUNT; the service checks the balance
COMMUNITY_INDEX = Number(0, 999)  # 0: any community, else one of the known communities (from 1)
PLACE_ID = Number(0, DATABASE_ID_MAX)  # 0 (the district, the first community) or a team id

# The one table of shapes: action → the kind of each part, in order.
SHAPES: dict[str, tuple[Part, ...]] = {
    CATEGORY: (DRAFT, TOKEN),  # a configured category; the service checks which
    WHEN: (DRAFT,),  # "another time": the time is typed
    CONFIRM: (DRAFT, OneOf.of(request_steps.WHEN_CHOICES)),
    EDIT: (DRAFT,),
    EDIT_FIELD: (DRAFT, OneOf.of(request_steps.EDITABLE)),
    ABORT: (DRAFT,),
    OTHER_ADDRESS: (DRAFT,),  # not the remembered address: ask it again
    CANCEL_ORDER: (DATABASE_ID,),
    DISPATCH: (DATABASE_ID, DATABASE_ID),  # order, team
    REJECT: (DATABASE_ID,),
    REJECT_REASON: (DATABASE_ID, TOKEN),  # order, a reason's code
    ACCEPT: (DATABASE_ID,),
    ON_WAY: (DATABASE_ID,),
    DONE: (DATABASE_ID,),
    RELEASE: (DATABASE_ID,),
    HOURS: (DATABASE_ID, OneOf.of(HOUR_CHOICES)),
    KEEP: (DATABASE_ID,),
    RATE: (DATABASE_ID, STARS),
    SKIP_COMMENT: (DATABASE_ID,),
    JOIN_TEAM: (DATABASE_ID,),
    APPROVE: (DATABASE_ID,),  # a volunteer (membership) row
    DENY: (DATABASE_ID,),
    LANGUAGE: (OneOf.of(LANGUAGES),),
    JOIN_PICK: (OneOf.of(profile.STEPS), TOKEN),  # step, a choice's code (or a community's index)
    JOIN_DONE: (OneOf.of(profile.STEPS),),
    PROFILE_EDIT: (OneOf.of(profile.EDITABLE),),
    PAGE: (DATABASE_ID, PAGE_NUMBER),  # the list message's outbox row, the page to show
    MORE: (TOKEN,),  # a menu action's key; the handler checks which
    FIND_SKILL: (TOKEN,),  # a configured category; the service checks which
    QUIET_SET: (OneOf.of(QUIET_CHOICES),),
    OFFER_YES: (),
    OFFER_NO: (),
    ROUTE_ADD: (),
    ROUTE_CATEGORY: (TOKEN,),  # a configured category; the service checks which
    ROUTE_COMMUNITY: (TOKEN, COMMUNITY_INDEX),
    ROUTE_TEAM: (TOKEN, COMMUNITY_INDEX, DATABASE_ID),  # category, community, team
    ROUTE_DELETE: (DATABASE_ID,),  # a rule
    LISTEN: (DATABASE_ID,),  # an order with a voice note
    ACT_SIGN_UP: (DATABASE_ID,),  # an activity
    ACT_WITHDRAW: (DATABASE_ID,),
    ACT_NEW: (),
    ACT_TEAM: (DATABASE_ID,),
    ACT_PICK: (OneOf.of(activities.PICKED), TOKEN),  # a step answered by buttons, its choice; the service checks
    ACT_ALSO: (DATABASE_ID,),  # a team
    ACT_PUBLISH: (),
    ACT_ABORT: (),
    ACT_CHANGE: (DATABASE_ID, OneOf.of(activities.CHANGEABLE)),
    ACT_CANCEL: (DATABASE_ID,),
    ACT_MANAGE: (DATABASE_ID,),
    ACT_CANCEL_SURE: (DATABASE_ID,),
    CHECKIN_SHOW: (DATABASE_ID,),  # an activity
    CHECKIN_LIST: (DATABASE_ID,),  # an activity
    CHECKIN_MARK: (DATABASE_ID,),  # a sign-up row
    CHECKIN_FINISH: (DATABASE_ID,),  # an activity
    CHECKIN_FINISH_YES: (DATABASE_ID,),  # an activity
    CHECK_OUT: (DATABASE_ID,),  # an activity
    HOURS_CERTIFICATE: (OneOf.of(CERTIFICATE_PERIODS),),
    HOURS_EXPORT: (OneOf.of(EXPORT_MONTHS),),
    HONOUR_HOURS: (OneOf.of(HONOUR_CHOICES),),  # the person and the reason are in the dialog row
    NOMINATION_APPROVE: (DATABASE_ID,),  # a nomination
    NOMINATION_SKIP: (DATABASE_ID,),
    PAY_AMOUNT: (DATABASE_ID, POINTS),  # a points code row, the points
    PAY_OK: (DATABASE_ID, POINTS),
    PAY_NO: (DATABASE_ID,),
    HISTORY: (DATABASE_ID,),  # an order
    HISTORY_EXPORT: (DATABASE_ID,),  # an order
    REPORT_PERIOD: (OneOf.of(REPORT_PERIODS),),
    REPORT_PLACE: (OneOf.of(REPORT_PERIODS), OneOf.of(REPORT_PLACES), PLACE_ID),  # the service checks all
    FORGET: (DATABASE_ID, OneOf.of(("0", "1"))),  # the question's row, the answer
}
ACTIONS = frozenset(SHAPES)


def _read(action: str, parts: list[str]) -> tuple[Value, ...] | None:
    shape = SHAPES.get(action)
    if shape is None or len(parts) != len(shape):
        return None
    values = tuple(kind.read(part) for kind, part in zip(shape, parts, strict=True))
    return None if any(v is None for v in values) else values  # type: ignore[return-value]


def pack(action: str, *args: object) -> str:
    """Build callback data; refuses anything outside the action's shape (so no free text)."""
    parts = [str(a) for a in args]
    if action not in SHAPES:
        raise ValueError(f"unknown action {action!r}")
    if _read(action, parts) is None:
        raise ValueError(f"callback arguments do not fit {action!r}: {parts!r}")
    data = ":".join([action, *parts])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def unpack(data: str | None) -> Button | None:
    """Parse callback data from a tap; None for anything we did not make."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    action, *parts = data.split(":")
    action = RETIRED.get(action, action)
    values = _read(action, parts)
    return None if values is None else Button(action, values)
