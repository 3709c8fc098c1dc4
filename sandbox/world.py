"""The simulated Telegram: people, chats, messages and files, as plain in-memory records.

Everything here is the sandbox's own bookkeeping; :mod:`sandbox.botapi` turns it into Bot API
objects and :mod:`sandbox.people` changes it on behalf of simulated users.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.clock import Clock, system_clock
from sandbox.errors import ControlError, bad_request

ChatType = Literal["private", "group", "supergroup"]
MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]
PRESENT = ("creator", "administrator", "member")
# Message kinds whose text is a ``caption`` (stickers and video notes have none).
CAPTIONED_KINDS = ("photo", "voice", "document", "video", "audio", "animation")


@dataclass
class Person:
    """A simulated Telegram user."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    phone_number: str | None = None
    started_bot: bool = False
    blocked_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class BotIdentity:
    """The bot the sandbox serves, derived from its token as Telegram does (``<id>:<secret>``)."""

    id: int
    username: str
    first_name: str = "Sandbox Bot"

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}


@dataclass
class StoredFile:
    """An uploaded or user-sent file, addressable by ``file_id``."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def file_path(self) -> str:
        return f"files/{self.file_unique_id}"


@dataclass
class Version:
    """A past state of a message, kept when it is edited."""

    text: str | None
    html: str | None
    reply_markup: dict[str, Any] | None
    edited_at: float


@dataclass
class StoredMessage:
    """A message as it stands now, plus its history of edits."""

    message_id: int
    chat_id: int
    sender_id: int
    from_bot: bool
    date: float
    kind: str = "text"
    text: str | None = None  # what a person sees (markup parsed away)
    html: str | None = None  # what the bot sent, when it used parse_mode=HTML
    entities: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None
    protect_content: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # voice, photo, contact, service fields
    history: list[Version] = field(default_factory=list)
    edit_date: float | None = None
    deleted: bool = False

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup["inline_keyboard"]
        return []


@dataclass
class ChatEvent:
    """One change in a chat, in the order people see them."""

    seq: int
    kind: Literal["message", "edit", "delete"]
    message_id: int
    time: float


@dataclass
class Chat:
    """A private chat with the bot, a group or a supergroup."""

    id: int
    type: ChatType
    title: str | None = None
    members: dict[int, MemberStatus] = field(default_factory=dict)
    bot_status: MemberStatus = "left"
    migrated_to: int | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    events: list[ChatEvent] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    pinned_message_id: int | None = None
    menu_button: dict[str, Any] | None = None
    _next_message_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_message_id(self) -> int:
        return next(self._next_message_id)


class World:
    """All simulated state of one sandbox; changes notify anyone waiting on :meth:`wait_for_change`."""

    def __init__(self, bot: BotIdentity, clock: Clock = system_clock) -> None:
        self.bot = bot
        self.clock = clock
        self.people: dict[int, Person] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.pending_callbacks: dict[str, float] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.default_menu_button: dict[str, Any] = {"type": "commands"}
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._seq = itertools.count(1)
        self._changed = asyncio.Event()

    # -- people and chats ---------------------------------------------------------------------
    def add_person(self, first_name: str, **fields: Any) -> Person:
        person = Person(id=next(self._user_ids), first_name=first_name, **fields)
        self.people[person.id] = person
        self.chats[person.id] = Chat(id=person.id, type="private", members={person.id: "member"})
        return person

    def person(self, user_id: int) -> Person:
        try:
            return self.people[int(user_id)]
        except (KeyError, ValueError):
            raise ControlError(f"no simulated user {user_id}") from None

    def add_group(self, title: str, *, supergroup: bool = False) -> Chat:
        n = next(self._group_ids)
        chat_id = -(1_000_000_000_000 + n) if supergroup else -n
        chat = Chat(id=chat_id, type="supergroup" if supergroup else "group", title=title)
        self.chats[chat_id] = chat
        return chat

    def new_supergroup_id(self) -> int:
        return -(1_000_000_000_000 + next(self._group_ids))

    def chat(self, chat_id: int) -> Chat:
        try:
            return self.chats[int(chat_id)]
        except (KeyError, ValueError):
            raise ControlError(f"no chat {chat_id}") from None

    def chat_for_bot(self, chat_id: int | str) -> Chat:
        """Resolve a ``chat_id`` the bot sent (an id or ``@username``), or fail as Telegram does."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for person in self.people.values():
                if person.username and person.username.lower() == chat_id[1:].lower():
                    return self.chats[person.id]
            raise bad_request("chat not found")
        try:
            return self.chats[int(chat_id)]
        except (KeyError, ValueError):
            raise bad_request("chat not found") from None

    def chat_to_api(self, chat: Chat) -> dict[str, Any]:
        if chat.type == "private":
            person = self.people[chat.id]
            data = {"id": chat.id, "type": "private", "first_name": person.first_name}
            if person.last_name:
                data["last_name"] = person.last_name
            if person.username:
                data["username"] = person.username
            return data
        return {"id": chat.id, "type": chat.type, "title": chat.title}

    # -- messages ---------------------------------------------------------------------------------
    def add_message(self, chat: Chat, *, sender_id: int, from_bot: bool, **fields: Any) -> StoredMessage:
        message = StoredMessage(
            message_id=chat.next_message_id(), chat_id=chat.id, sender_id=sender_id,
            from_bot=from_bot, date=self.clock(), **fields,
        )
        chat.messages[message.message_id] = message
        self.record_event(chat, "message", message.message_id)
        return message

    def edit_message(self, message: StoredMessage, **changes: Any) -> None:
        chat = self.chats[message.chat_id]
        message.history.append(
            Version(message.text, message.html, copy.deepcopy(message.reply_markup), self.clock())
        )
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = self.clock()
        self.record_event(chat, "edit", message.message_id)

    def delete_message(self, message: StoredMessage) -> None:
        message.deleted = True
        self.record_event(self.chats[message.chat_id], "delete", message.message_id)

    def record_event(self, chat: Chat, kind: Literal["message", "edit", "delete"], message_id: int) -> None:
        chat.events.append(ChatEvent(next(self._seq), kind, message_id, self.clock()))
        self.notify()

    def message_to_api(self, message: StoredMessage) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        sender = self.bot.to_api() if message.from_bot else self.people[message.sender_id].to_api()
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(message.date),
            "chat": self.chat_to_api(chat),
            "from": sender,
        }
        if message.text is not None:
            data["caption" if message.kind in CAPTIONED_KINDS else "text"] = message.text
        if message.entities:
            data["entities"] = message.entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.protect_content:
            data["has_protected_content"] = True
        if message.edit_date:
            data["edit_date"] = int(message.edit_date)
        data.update(copy.deepcopy(message.extra))
        return data

    def find_message(self, chat: Chat, message_id: int) -> StoredMessage | None:
        message = chat.messages.get(message_id)
        return None if message is None or message.deleted else message

    # -- files ------------------------------------------------------------------------------------
    def store_file(self, data: bytes, *, file_name: str | None = None, mime_type: str | None = None) -> StoredFile:
        unique = secrets.token_hex(8)
        stored = StoredFile(f"F{unique}{secrets.token_hex(8)}", unique, data, file_name, mime_type)
        self.files[stored.file_id] = stored
        return stored

    # -- waiting ----------------------------------------------------------------------------------
    def notify(self) -> None:
        """Wake everyone waiting in :meth:`wait_for_change` (call after any visible change)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, timeout: float) -> bool:
        """Wait until something changes or ``timeout`` passes; True if something changed.

        Callers check their condition first and then wait, with no ``await`` in between, so no
        change can slip past them.
        """
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
            return True
        except TimeoutError:
            return False
