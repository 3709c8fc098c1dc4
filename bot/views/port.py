"""The one place views touch the outbox: :class:`Outgoing` turns rendered texts and keyboards into
queued rows of the current unit of work (so they commit with the change that caused them).

It is also the one place group texts are made safe: every text or caption queued for a group where
volunteers read (any group but the centre's, which reads volunteers' registry numbers in their
applications) goes through :func:`~bot.domain.redact.mask_phones` — names and anything else
people typed. The order fields a view shows are, in addition, redacted one by one where rendered
(:func:`~bot.domain.redact.redact`, which also shortens them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from bot.domain.attachments import Attachment, to_payload
from bot.domain.chats import is_group
from bot.domain.redact import mask_phones
from storage.models import OutboxMessage, User
from storage.privacy import is_forgotten_chat
from storage.repositories import REREAD

Markup = dict[str, Any]


class Outbox(Protocol):
    """What :class:`Outgoing` needs of the outbox (storage.repositories.OutboxRepository)."""

    async def send(self, chat_id: int, payload: dict[str, Any], *, recipient_user_id: int | None = None,
                   method: str = "sendMessage") -> OutboxMessage: ...

    async def edit(self, target_id: int, payload: dict[str, Any]) -> OutboxMessage: ...

    async def by_ids(self, row_ids: Iterable[int]) -> dict[int, OutboxMessage]: ...

    async def withdraw(self, row_id: int) -> bool: ...

    async def keep_only(self, row_id: int, payload: dict[str, Any]) -> None: ...


class Outgoing:
    """Queues messages, edits, voice notes, files and command menus as outbox rows."""

    def __init__(self, outbox: Outbox, coordinators_chat_id: int | None) -> None:
        self._outbox = outbox
        self._coordinators_chat_id = coordinators_chat_id

    def safe_for(self, chat_id: int, text: str) -> str:
        """``text`` with phone numbers masked if it goes to a group where volunteers read (any group
        but the coordinators' chat, which reads volunteers' registry numbers in their applications;
        the order fields it is shown are redacted one by one)."""
        return mask_phones(text) if is_group(chat_id) and chat_id != self._coordinators_chat_id else text

    async def send(self, chat_id: int, text: str, *, recipient: User | None = None,
                   markup: Markup | None = None, protect: bool = False, reread: bool = False) -> int:
        """Queue a message; returns the outbox row id (what later edits refer to), or 0 when
        ``chat_id`` is a forgotten person's (nothing is queued: see storage.privacy). Once sent, the
        row forgets the text (it may name a person) unless ``reread``: :meth:`texts` reads it back
        for edits that extend it, so it must be made of redacted fields only."""
        if is_forgotten_chat(chat_id):
            return 0
        payload: dict[str, Any] = {"text": self.safe_for(chat_id, text), "parse_mode": "HTML"}
        if reread:
            payload[REREAD] = True
        if markup is not None:
            payload["reply_markup"] = markup
        if protect:
            payload["protect_content"] = True
        row = await self._outbox.send(chat_id, payload, recipient_user_id=recipient.id if recipient else None)
        return row.id

    async def send_list(self, chat_id: int, text: str, *, recipient: User | None, query: dict[str, Any],
                        protect: bool, markup_for: Callable[[int], Markup | None]) -> int:
        """Queue a list's message. Its row keeps ``query`` (what the list shows, never personal data)
        so a page button can rebuild it; the keyboard (``markup_for`` the row's own id, for the page
        buttons that refer to it) is added once the row has its id."""
        if is_forgotten_chat(chat_id):
            return 0
        payload: dict[str, Any] = {"text": self.safe_for(chat_id, text), "parse_mode": "HTML", "list": query}
        if protect:
            payload["protect_content"] = True
        row = await self._outbox.send(chat_id, payload, recipient_user_id=recipient.id if recipient else None)
        markup = markup_for(row.id)
        if markup is not None:
            row.payload = {**row.payload, "reply_markup": markup}
        return row.id

    async def send_marked(self, chat_id: int, text: str, *, recipient: User | None, mark: str,
                          markup_for: Callable[[int], Markup | None]) -> int:
        """Queue a private message whose buttons name its own row (``markup_for`` the row's id), the
        row marked ``mark`` so a tap can be checked against what the message was."""
        if is_forgotten_chat(chat_id):
            return 0
        payload: dict[str, Any] = {"text": text, "parse_mode": "HTML", mark: True}
        row = await self._outbox.send(chat_id, payload, recipient_user_id=recipient.id if recipient else None)
        markup = markup_for(row.id)
        if markup is not None:
            row.payload = {**row.payload, "reply_markup": markup}
        return row.id

    async def edit(self, row: int, text: str, markup: Markup | None) -> None:
        """Queue an edit of the message ``row`` sent: new text and keyboard (made safe for the
        message's chat, which the edit's row knows)."""
        edit = await self._outbox.edit(row, {"text": text, "parse_mode": "HTML", "reply_markup": markup})
        safe = self.safe_for(edit.chat_id, text)
        if safe != text:
            edit.payload = {**edit.payload, "text": safe}

    async def texts(self, rows: Iterable[int]) -> dict[int, str]:
        """The texts of messages queued earlier with ``reread``, by row (to edit them with a line added)."""
        return {row.id: str(row.payload.get("text", "")) for row in (await self._outbox.by_ids(rows)).values()}

    async def send_voice(self, chat_id: int, file_id: str, *, recipient: User | None, protect: bool = False) -> int:
        """A voice note a person sent (by its Telegram file id), passed on as it is; returns the row id."""
        return await self._pass_on(chat_id, "voice", file_id, recipient=recipient, protect=protect)

    async def send_photo(self, chat_id: int, file_id: str, *, recipient: User | None, protect: bool = False) -> int:
        """A photo a person sent (by its Telegram file id), passed on as it is; returns the row id."""
        return await self._pass_on(chat_id, "photo", file_id, recipient=recipient, protect=protect)

    async def _pass_on(self, chat_id: int, kind: str, file_id: str, *, recipient: User | None, protect: bool) -> int:
        if is_forgotten_chat(chat_id):
            return 0
        payload: dict[str, Any] = {kind: file_id, **({"protect_content": True} if protect else {})}
        row = await self._outbox.send(chat_id, payload, recipient_user_id=recipient.id if recipient else None,
                                      method="sendVoice" if kind == "voice" else "sendPhoto")
        return row.id

    async def send_file(self, chat_id: int, caption: str, attachment: Attachment, *,
                        recipient: User | None, protect: bool = False) -> None:
        """A photo or document made when the message goes out (see :mod:`bot.adapters.attachments`)."""
        if is_forgotten_chat(chat_id):
            return
        method = {"photo": "sendPhoto", "document": "sendDocument"}[attachment.field]
        payload: dict[str, Any] = {"caption": self.safe_for(chat_id, caption), "parse_mode": "HTML",
                                   "attachment": to_payload(attachment)}
        if protect:
            payload["protect_content"] = True
        await self._outbox.send(chat_id, payload, recipient_user_id=recipient.id if recipient else None,
                                method=method)

    async def unsend(self, row: int) -> bool:
        """Take back the message ``row`` if no sender has taken it yet (True: it never goes out)."""
        return await self._outbox.withdraw(row)

    async def delete(self, row: int) -> None:
        """Queue the deletion of the message ``row`` sent (Telegram deletes a bot's message only
        within 48 hours of sending; see :mod:`bot.services.retention`)."""
        await self._outbox.edit(row, {"method": "deleteMessage"})

    async def keep_only(self, row: int, payload: dict[str, Any]) -> None:
        """The row of a message already out keeps ``payload`` instead of what it sent (a redacted
        text, no file id): the database holds no more than the chat shows."""
        await self._outbox.keep_only(row, payload)

    async def set_commands(self, person: User, commands: list[dict[str, str]]) -> None:
        """Give ``person``'s private chat this command menu."""
        if is_forgotten_chat(person.telegram_id):
            return
        payload: dict[str, Any] = {"commands": commands, "scope": {"type": "chat", "chat_id": person.telegram_id}}
        await self._outbox.send(person.telegram_id, payload, recipient_user_id=person.id, method="setMyCommands")
