"""What simulated people do: type, share contacts, tap buttons, join groups, block the bot.

Each action changes the :class:`~sandbox.world.World` the way the Telegram app would and queues
the updates the bot would receive. Actions are synchronous, so a batch of them lands in the
update queue at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from sandbox.delivery import UpdateFeed
from sandbox.errors import ControlError
from sandbox.world import (
    CAPTIONED_KINDS,
    PRESENT,
    Chat,
    MemberStatus,
    Person,
    StoredMessage,
    World,
)

MEDIA_KINDS = ("voice", "photo", "document", "sticker", "video", "audio", "animation", "video_note")
# Who a group message written "as the group" (an anonymous administrator) is from, as on Telegram.
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


class People:
    """The simulated users' side of the sandbox."""

    def __init__(self, world: World, feed: UpdateFeed, *, privacy_mode: bool = True) -> None:
        self.world = world
        self.feed = feed
        self.privacy_mode = privacy_mode

    # -- setting the scene ----------------------------------------------------------------------
    def create_user(self, first_name: str, *, last_name: str | None = None,
                    username: str | None = None, language_code: str | None = "en",
                    phone_number: str | None = None) -> Person:
        phone = phone_number or f"+861{secrets.randbelow(10**10):010d}"
        return self.world.add_person(first_name, last_name=last_name, username=username,
                                     language_code=language_code, phone_number=phone)

    def create_group(self, title: str, *, creator: int, members: list[int] | None = None,
                     admins: list[int] | None = None, supergroup: bool = False) -> Chat:
        chat = self.world.add_group(title, supergroup=supergroup)
        self.world.person(creator)
        chat.members[creator] = "creator"
        for user_id in members or []:
            self.world.person(user_id)
            chat.members.setdefault(user_id, "member")
        for user_id in admins or []:
            self.world.person(user_id)
            chat.members[user_id] = "administrator"
        return chat

    # -- talking to the bot ---------------------------------------------------------------------
    def start(self, user_id: int, payload: str | None = None) -> dict[str, Any]:
        """Press Start in the bot's chat (optionally through a deep link ``?start=payload``)."""
        person = self.world.person(user_id)
        if person.blocked_bot:
            self.unblock(user_id)
        person.started_bot = True
        return self.send_text(user_id, "/start" + (f" {payload}" if payload else ""))

    def send_text(self, user_id: int, text: str, *, chat_id: int | None = None,
                  reply_to: int | None = None, anonymous: bool = False) -> dict[str, Any]:
        """Type ``text`` into a chat (the private chat with the bot by default); ``anonymous``: a
        group administrator writes as the group (``sender_chat``, from GroupAnonymousBot)."""
        if not text:
            raise ControlError("empty message")
        fields: dict[str, Any] = {"kind": "text", "text": text}
        entities = command_entities(text)
        if entities:
            fields["entities"] = entities
        return self._say(user_id, chat_id, reply_to=reply_to, anonymous=anonymous, **fields)

    def share_contact(self, user_id: int, *, chat_id: int | None = None,
                      phone_number: str | None = None, of_user: int | None = None) -> dict[str, Any]:
        """Share a contact; by default one's own, as the request-contact button does; ``of_user``:
        the contact card of another person (their number and user id)."""
        person = self.world.person(user_id)
        owner = self.world.person(of_user) if of_user is not None else person
        contact: dict[str, Any] = {"phone_number": phone_number or owner.phone_number,
                                   "first_name": owner.first_name}
        if owner.last_name:
            contact["last_name"] = owner.last_name
        if phone_number is None:
            contact["user_id"] = owner.id
        return self._say(user_id, chat_id, kind="contact", extra={"contact": contact})

    def forward(self, user_id: int, text: str, *, origin_user: int | None = None,
                chat_id: int | None = None) -> dict[str, Any]:
        """Forward a text message written by ``origin_user`` (None: by someone who hides their account)."""
        if not text:
            raise ControlError("empty message")
        date = int(self.world.clock())
        origin: dict[str, Any] = (
            {"type": "user", "date": date, "sender_user": self.world.person(origin_user).to_api()}
            if origin_user is not None else {"type": "hidden_user", "date": date, "sender_user_name": "Someone"})
        return self._say(user_id, chat_id, kind="text", text=text, extra={"forward_origin": origin})

    def edit_text(self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None,
                  force: bool = False) -> dict[str, Any]:
        """Edit one's own text message: the bot gets ``edited_message`` (if it asked for those, or
        with ``force``, see :meth:`UpdateFeed.push`)."""
        person = self.world.person(user_id)
        chat = self._chat_of(person, chat_id)
        message = self.world.find_message(chat, message_id)
        if message is None or message.from_bot or message.sender_id != person.id or message.kind != "text":
            raise ControlError(f"user {user_id} has no text message {message_id} in chat {chat.id} to edit")
        if not text:
            raise ControlError("empty message")
        self.world.edit_message(message, text=text, entities=command_entities(text) or None)
        update_id = None
        if self._bot_sees(chat, message, None):
            update_id = self.feed.push("edited_message", self.world.message_to_api(message), order_key=person.id,
                                       force=force)
        return {"message_id": message.message_id, "chat_id": chat.id, "update_id": update_id}

    def forge_tap(self, user_id: int, data: str, *, chat_id: int | None = None,
                  message_id: int | None = None) -> dict[str, Any]:
        """A callback query with any ``data`` on a message of the chat (the bot's newest by default),
        as a modified client can send: the data need not belong to a button there, nor fit 64 bytes."""
        person = self.world.person(user_id)
        chat = self._chat_of(person, chat_id)
        if message_id is None:
            mine = [m for m in chat.messages.values() if m.from_bot and not m.deleted]
            if not mine:
                raise ControlError(f"no bot message in chat {chat.id} to tap on")
            message = mine[-1]
        else:
            found = chat.messages.get(message_id)
            if found is None:
                raise ControlError(f"no message {message_id} in chat {chat.id}")
            message = found
        return self._callback_query(person, chat, message, data)

    def inject(self, kind: str, payload: Any, *, force: bool = True) -> dict[str, Any]:
        """Queue a raw update ``{"update_id": ..., kind: payload}`` exactly as given, well-formed or
        not (a channel post, a malformed object): what a broken or hostile network can deliver.
        A webhook gets it in order with the other updates of its chat (if it names one)."""
        return {"update_id": self.feed.push(kind, payload, order_key=_chat_key(payload), force=force)}

    def send_location(self, user_id: int, latitude: float, longitude: float, *,
                      chat_id: int | None = None) -> dict[str, Any]:
        return self._say(user_id, chat_id, kind="location",
                         extra={"location": {"latitude": latitude, "longitude": longitude}})

    def send_media(self, user_id: int, kind: str, data: bytes, *, chat_id: int | None = None,
                   caption: str | None = None, file_name: str | None = None,
                   mime_type: str | None = None, duration: int = 3) -> dict[str, Any]:
        """Send a voice note, a photo or a document with the given bytes."""
        from sandbox.botapi import (
            media_object,  # the Bot API module owns the object shapes
        )

        if kind not in MEDIA_KINDS:
            raise ControlError(f"unknown media kind {kind!r}")
        if caption is not None and kind not in CAPTIONED_KINDS:
            raise ControlError(f"a {kind} has no caption")
        default_mime = {"voice": "audio/ogg", "photo": "image/jpeg", "sticker": "image/webp", "video": "video/mp4",
                        "audio": "audio/mpeg", "animation": "video/mp4", "video_note": "video/mp4"}.get(kind)
        stored = self.world.store_file(data, file_name=file_name, mime_type=mime_type or default_mime)
        return self._say(user_id, chat_id, kind=kind, text=caption,
                         extra={kind: media_object(kind, stored, duration=duration)})

    def press(self, user_id: int, text: str) -> dict[str, Any]:
        """Press a button of the reply keyboard the bot shows in its private chat."""
        chat = self.world.chat(user_id)
        button = _find_keyboard_button(chat, text)
        if button is None:
            raise ControlError(f"no keyboard button {text!r} in the chat with user {user_id}")
        if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None
        if isinstance(button, dict) and button.get("request_contact"):
            return self.share_contact(user_id)
        if isinstance(button, dict) and button.get("request_location"):
            return self.send_location(user_id, 39.9042, 116.4074)
        return self.send_text(user_id, text)

    def tap(self, user_id: int, text: str, *, chat_id: int | None = None,
            message_id: int | None = None) -> dict[str, Any]:
        """Tap the inline button labelled ``text`` (on the newest message showing it)."""
        person = self.world.person(user_id)
        chat = self._chat_of(person, chat_id)
        message, button = _find_inline_button(chat, text, message_id)
        if "url" in button:
            return {"url": button["url"]}
        if "callback_data" not in button:
            raise ControlError(f"button {text!r} is not a callback button")
        return self._callback_query(person, chat, message, button["callback_data"])

    def _callback_query(self, person: Person, chat: Chat, message: StoredMessage, data: str) -> dict[str, Any]:
        query_id = str(secrets.randbits(63))
        self.world.pending_callbacks[query_id] = self.world.clock()
        payload = {
            "id": query_id, "from": person.to_api(), "message": self.world.message_to_api(message),
            "chat_instance": _chat_instance(chat.id), "data": data,
        }
        update_id = self.feed.push("callback_query", payload, order_key=person.id)
        return {"callback_query_id": query_id, "update_id": update_id, "message_id": message.message_id}

    def block(self, user_id: int) -> dict[str, Any]:
        """Block the bot: later messages to this user fail with 403."""
        person = self.world.person(user_id)
        person.blocked_bot = True
        return {"update_id": self._private_member_update(person, "member", "kicked")}

    def unblock(self, user_id: int) -> dict[str, Any]:
        person = self.world.person(user_id)
        person.blocked_bot = False
        return {"update_id": self._private_member_update(person, "kicked", "member")}

    # -- groups ---------------------------------------------------------------------------------
    def add_bot(self, group_id: int, by: int, *, admin: bool = False) -> dict[str, Any]:
        """Add the bot to a group (as an administrator with ``admin``)."""
        chat = self._group(group_id)
        self._require_member(chat, by)
        old = chat.bot_status
        set_bot_status(self.world, self.feed, chat, "administrator" if admin else "member", by=by)
        message = self._service(chat, by, {"new_chat_members": [self.world.bot.to_api()],
                                           "new_chat_member": self.world.bot.to_api()})
        return {"old_status": old, "message_id": message.message_id}

    def remove_bot(self, group_id: int, by: int) -> dict[str, Any]:
        chat = self._group(group_id)
        self._require_member(chat, by)
        set_bot_status(self.world, self.feed, chat, "kicked" if chat.type == "supergroup" else "left", by=by)
        return {}

    def join(self, group_id: int, user_id: int) -> dict[str, Any]:
        chat = self._group(group_id)
        person = self.world.person(user_id)
        old = chat.members.get(user_id, "left")
        chat.members[user_id] = "member"
        self._chat_member_update(chat, person, old, "member")
        message = self._service(chat, user_id, {"new_chat_members": [person.to_api()],
                                                "new_chat_member": person.to_api()})
        return {"message_id": message.message_id}

    def leave(self, group_id: int, user_id: int) -> dict[str, Any]:
        chat = self._group(group_id)
        person = self.world.person(user_id)
        self._require_member(chat, user_id)
        old = chat.members[user_id]
        chat.members[user_id] = "left"
        self._chat_member_update(chat, person, old, "left")
        message = self._service(chat, user_id, {"left_chat_member": person.to_api()})
        return {"message_id": message.message_id}

    def migrate(self, group_id: int, by: int) -> dict[str, Any]:
        """Upgrade a group to a supergroup: it gets a new id and the old id stops working."""
        chat = self._group(group_id)
        if chat.type != "group":
            raise ControlError("only a basic group can be upgraded")
        self._require_member(chat, by)
        new = Chat(id=self.world.new_supergroup_id(), type="supergroup", title=chat.title,
                   members=dict(chat.members), bot_status=chat.bot_status)
        self.world.chats[new.id] = new
        self._service(chat, by, {"migrate_to_chat_id": new.id})
        chat.migrated_to = new.id
        self._service(new, by, {"migrate_from_chat_id": chat.id})
        return {"new_chat_id": new.id}

    # -- internals ------------------------------------------------------------------------------
    def _say(self, user_id: int, chat_id: int | None, *, kind: str, text: str | None = None,
             reply_to: int | None = None, entities: list[dict[str, Any]] | None = None,
             extra: dict[str, Any] | None = None, anonymous: bool = False) -> dict[str, Any]:
        person = self.world.person(user_id)
        chat = self._chat_of(person, chat_id)
        extra = dict(extra or {})
        if anonymous:
            if chat.type == "private" or chat.members.get(person.id) not in ("creator", "administrator"):
                raise ControlError("only a group's administrators can write as the group")
            extra.update({"from": dict(ANONYMOUS_ADMIN), "sender_chat": self.world.chat_to_api(chat)})
        replied: StoredMessage | None = None
        if reply_to is not None:
            replied = self.world.find_message(chat, reply_to)
            if replied is None:
                raise ControlError(f"no message {reply_to} to reply to")
            extra["reply_to_message"] = self.world.message_to_api(replied)
        if chat.type == "private":
            if person.blocked_bot:
                raise ControlError("this user blocked the bot; unblock it first")
            person.started_bot = True
        message = self.world.add_message(chat, sender_id=person.id, from_bot=False, kind=kind,
                                         text=text, entities=entities, extra=extra)
        update_id = None
        if self._bot_sees(chat, message, replied):
            update_id = self.feed.push("message", self.world.message_to_api(message), order_key=person.id)
        return {"message_id": message.message_id, "chat_id": chat.id, "update_id": update_id}

    def _bot_sees(self, chat: Chat, message: StoredMessage, replied: StoredMessage | None) -> bool:
        if chat.type == "private":
            return True
        if chat.bot_status not in PRESENT:
            return False
        if not self.privacy_mode or chat.bot_status == "administrator":
            return True
        if replied is not None and replied.from_bot:
            return True
        text = message.text or ""
        if text.startswith("/"):
            command = text.split()[0]
            return "@" not in command or command.split("@", 1)[1].lower() == self.world.bot.username.lower()
        return False

    def _chat_of(self, person: Person, chat_id: int | None) -> Chat:
        if chat_id is None or int(chat_id) == person.id:
            return self.world.chat(person.id)
        chat = self.world.chat(chat_id)
        if chat.type == "private":
            raise ControlError("a user can only write in their own chat with the bot")
        if chat.migrated_to is not None:
            raise ControlError(f"chat {chat.id} was upgraded to {chat.migrated_to}")
        self._require_member(chat, person.id)
        return chat

    def _group(self, group_id: int) -> Chat:
        chat = self.world.chat(group_id)
        if chat.type == "private":
            raise ControlError(f"chat {group_id} is not a group")
        return chat

    @staticmethod
    def _require_member(chat: Chat, user_id: int) -> None:
        if chat.members.get(user_id) not in PRESENT:
            raise ControlError(f"user {user_id} is not a member of chat {chat.id}")

    def _service(self, chat: Chat, by: int, fields: dict[str, Any]) -> StoredMessage:
        message = self.world.add_message(chat, sender_id=by, from_bot=False, kind="service", extra=fields)
        if chat.bot_status in PRESENT:
            self.feed.push("message", self.world.message_to_api(message), order_key=by)
        return message

    def _chat_member_update(self, chat: Chat, person: Person, old: str, new: str) -> None:
        if chat.bot_status == "administrator":
            self.feed.push("chat_member", member_update(self.world, chat, person.to_api(), old, new,
                                                        by=person.to_api()), order_key=person.id)

    def _private_member_update(self, person: Person, old: MemberStatus, new: MemberStatus) -> int | None:
        chat = self.world.chat(person.id)
        payload = member_update(self.world, chat, self.world.bot.to_api(), old, new, by=person.to_api())
        return self.feed.push("my_chat_member", payload, order_key=person.id)


def set_bot_status(world: World, feed: UpdateFeed, chat: Chat, status: MemberStatus, *,
                   by: int | None) -> None:
    """Change the bot's membership of a group and tell the bot with ``my_chat_member``."""
    old = chat.bot_status
    chat.bot_status = status
    actor = world.people[by].to_api() if by is not None else world.bot.to_api()
    feed.push("my_chat_member", member_update(world, chat, world.bot.to_api(), old, status, by=actor),
              order_key=by or world.bot.id)
    world.notify()


def member_update(world: World, chat: Chat, user: dict[str, Any], old: str, new: str, *,
                  by: dict[str, Any]) -> dict[str, Any]:
    """A ``ChatMemberUpdated`` object."""
    from sandbox.botapi import member_object

    return {"chat": world.chat_to_api(chat), "from": by, "date": int(world.clock()),
            "old_chat_member": member_object(user, old), "new_chat_member": member_object(user, new)}


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity Telegram attaches to a message starting with ``/command``."""
    if not text.startswith("/") or len(text) < 2:
        return []
    command = text.split()[0]
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


def _chat_key(payload: Any) -> int:
    """The chat id a raw update names (``chat.id`` of it or of its message), else a key of its own."""
    for holder in (payload, payload.get("message") if isinstance(payload, dict) else None):
        chat = holder.get("chat") if isinstance(holder, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
    return -secrets.randbits(62) - 1


def _chat_instance(chat_id: int) -> str:
    return str(int(hashlib.sha256(str(chat_id).encode()).hexdigest()[:15], 16))


def _find_keyboard_button(chat: Chat, text: str) -> Any:
    keyboard = chat.reply_keyboard or {}
    for row in keyboard.get("keyboard", []):
        for button in row:
            label = button if isinstance(button, str) else button.get("text")
            if label == text:
                return button
    return None


def _find_inline_button(chat: Chat, text: str, message_id: int | None) -> tuple[StoredMessage, dict[str, Any]]:
    if message_id is not None:
        candidates: Sequence[StoredMessage | None] = [chat.messages.get(message_id)]
    else:
        newest_first: list[StoredMessage] = sorted(chat.messages.values(), key=lambda m: m.message_id, reverse=True)
        candidates = newest_first
    for message in candidates:
        if message is None or message.deleted:
            continue
        for row in message.inline_keyboard:
            for button in row:
                if button.get("text") == text:
                    return message, button
    where = f"message {message_id}" if message_id is not None else f"chat {chat.id}"
    raise ControlError(f"no inline button {text!r} in {where}")
