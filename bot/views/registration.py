"""What a volunteer registering (/join) or editing their profile (/profile) is asked and shown:
each question with its buttons (a multi-select question's ✅ marks edited in place), and the
profile's lines (also read by the centre in a join application: see bot.views.centre)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.phones import shown_phone
from bot.domain.profile import (
    AVAILABILITY,
    DONE_LABEL,
    HOBBIES,
    KINDS,
    LIST_SEPARATOR,
    MEMBERSHIP_STATUS,
    MULTI_SELECT,
    OCCUPATIONS,
    PROFILE_FIELDS,
)
from bot.views import callbacks as cb
from bot.views.common import View, button, in_rows, inline
from bot.views.port import Markup
from storage.models import Team, User


def profile_lines(view: View, reader: User | None, profile: dict[str, Any], *, phone: bool) -> list[str]:
    """A volunteer's profile, a line per field, in ``reader``'s language; the phone only where
    ``phone`` (never in a group)."""
    _ = view.tr(reader)
    separator = _(LIST_SEPARATOR)

    def names(codes: Sequence[str], catalogue: dict[str, str]) -> str:
        return separator.join(_(catalogue[c]) if c in catalogue else c for c in codes) or "—"

    kind = profile.get("kind") or "resident"
    values = {
        "name": profile.get("name") or "—",
        "phone": shown_phone(profile["phone"]) if profile.get("phone") else "—",
        "community": profile.get("community") or "—",
        "skills": separator.join(view.category_label(reader, c) for c in profile.get("skills") or []) or "—",
        "occupation": names([profile["occupation"]] if profile.get("occupation") else [], OCCUPATIONS),
        "hobbies": names(profile.get("hobbies") or [], HOBBIES),
        "kind": names([kind], KINDS),
        "organisation": profile.get("organisation") or "—",
        "availability": names(profile.get("availability") or [], AVAILABILITY),
        "registry": profile.get("registry") or "—",
    }
    shown = [f for f in PROFILE_FIELDS if (phone or f != "phone") and (f != "organisation" or kind == "business")]
    return [_("{label}: {value}", label=_(PROFILE_FIELDS[f]), value=values[f]) for f in shown]


class RegistrationView(View):
    def _prompt(self, user: User, step: str, draft: dict[str, Any], teams: Sequence[Team],
                editing: bool) -> tuple[str, Markup | None]:
        """A question of the /join dialog (or of a profile edit) and its keyboard."""
        _ = self.tr(user)
        chosen = set(draft.get(step) or []) if step in MULTI_SELECT else set()

        def choices(options: Sequence[tuple[str, str]], per_row: int, *, done: bool) -> Markup:
            if step in MULTI_SELECT:
                buttons = [button(("✅ " if code in chosen else "") + label, cb.JOIN_PICK, step, code)
                           for code, label in options]
            else:
                buttons = [button(label, cb.JOIN_PICK, step, code) for code, label in options]
            rows = in_rows(buttons, per_row)
            if done:
                rows.append([button(_(DONE_LABEL), cb.JOIN_DONE, step)])
            return inline(rows)

        if step == "name":
            return (_("Type your full name:") if editing else _("Welcome! What is your full name?"),
                    {"remove_keyboard": True})
        if step == "phone":
            return _("Please share your phone number with the button below."), self.share_phone_keyboard(user)
        if step == "community" and self.settings.communities:
            options = [(str(i), name) for i, name in enumerate(self.settings.communities)]
            return _("Which community do you live in?"), choices(options, 2, done=False)
        if step == "community":
            return _("Which community (residential compound) are you in?"), {"remove_keyboard": True}
        if step == "skills":
            options = [(c, self.category_label(user, c)) for c in self.settings.categories]
            return _("Which services can you offer? Tap every one that applies, then Done."), \
                choices(options, 2, done=True)
        if step == "occupation":
            return _("What is your occupation?"), choices([(c, _(t)) for c, t in OCCUPATIONS.items()], 3, done=False)
        if step == "hobbies":
            return (_("What are your hobbies? Tap every one that applies, then Done (or just Done)."),
                    choices([(c, _(t)) for c, t in HOBBIES.items()], 3, done=True))
        if step == "kind":
            return _("Which of these describes you?"), choices([(c, _(t)) for c, t in KINDS.items()], 1, done=False)
        if step == "organisation":
            return _("What is the name of your business? You will be its contact person."), None
        if step == "availability":
            return (_("When can you usually help? Tap every one that applies, then Done."),
                    choices([(c, _(t)) for c, t in AVAILABILITY.items()], 3, done=True))
        if step == "registry":
            return (_("If you have a national volunteer registry number, type it; otherwise tap Skip."),
                    inline([[button(_("Skip"), cb.JOIN_DONE, "registry")]]))
        return _("Which team would you like to join?"), inline([[button(t.name, cb.JOIN_TEAM, t.id)] for t in teams])

    async def question(self, user: User, step: str, draft: dict[str, Any], *, teams: Sequence[Team] = (),
                       editing: bool = False) -> int:
        """Ask a /join (or profile edit) question; returns the outbox row id of the message."""
        text, markup = self._prompt(user, step, draft, teams, editing)
        return await self.out.send(user.telegram_id, text, recipient=user, markup=markup)

    async def toggled(self, user: User, step: str, draft: dict[str, Any], *, editing: bool = False) -> int:
        """Show a multi-select question's new ✅ marks: its message is edited in place (asked anew if
        the dialog does not know the message). Returns the message's outbox row id."""
        if not draft.get("msg"):
            return await self.question(user, step, draft, editing=editing)
        text, markup = self._prompt(user, step, draft, (), editing)
        await self.out.edit(int(draft["msg"]), text, markup)
        return int(draft["msg"])

    async def profile(self, user: User, profile: dict[str, Any], teams: Sequence[tuple[str, str]]) -> None:
        """/profile: the person's own profile, their teams, and an edit button per field."""
        _ = self.tr(user)
        memberships = _(LIST_SEPARATOR).join(_("{team} ({status})", team=name, status=_(MEMBERSHIP_STATUS[status]))
                                            for name, status in teams)
        lines = [_("<b>Your volunteer profile</b>"), *profile_lines(self, user, profile, phone=True),
                 _("{label}: {value}", label=_("Teams"), value=memberships or "—")]
        editable = [f for f in PROFILE_FIELDS if f != "organisation" or profile.get("kind") == "business"]
        buttons = [button(_("✏️ {field}", field=_(PROFILE_FIELDS[f])), cb.PROFILE_EDIT, f) for f in editable]
        await self.out.send(user.telegram_id, "\n".join(lines), recipient=user, markup=inline(in_rows(buttons, 2)))
