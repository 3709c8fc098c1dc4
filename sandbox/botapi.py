"""The Bot API methods the sandbox serves, each checking Telegram's rules before it acts."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.delivery import UpdateFeed
from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.flood import FloodControl
from sandbox.markup import check_reply_markup, render_text
from sandbox.params import Params
from sandbox.world import PRESENT, Chat, StoredFile, StoredMessage, World

MAX_DELETE_AGE = 48 * 3600
CALLBACK_ANSWER_LIMIT = 200
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}

#: Methods that put a message into a chat (or change one) and so count against flood limits.
RATE_LIMITED = {
    "sendmessage", "sendphoto", "senddocument", "sendvoice", "sendlocation", "sendcontact",
    "copymessage", "forwardmessage", "editmessagetext", "editmessagereplymarkup",
    "editmessagecaption",
}

Method = Callable[[Params], Awaitable[Any]]


@dataclass
class BotApi:
    """Carries out Bot API calls against the :class:`World`; raises :class:`ApiError` to refuse."""

    world: World
    feed: UpdateFeed
    flood: FloodControl
    callback_answer_timeout: float = 15.0

    def __post_init__(self) -> None:
        self._methods: dict[str, Method] = {
            name[4:].replace("_", ""): getattr(self, name)
            for name in dir(self) if name.startswith("api_")
        }

    def method(self, name: str) -> Method | None:
        """The implementation of ``name`` (method names are case-insensitive), or None."""
        return self._methods.get(name.lower())

    # -- updates --------------------------------------------------------------------------------
    async def api_get_me(self, p: Params) -> dict[str, Any]:
        return {**self.world.bot.to_api(), "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False,
                "can_connect_to_business": False, "has_main_web_app": False,
                "has_topics_enabled": False, "allows_users_to_create_topics": False}

    async def api_get_updates(self, p: Params) -> list[dict[str, Any]]:
        return await self.feed.get_updates(
            p.int("offset"), p.int("limit", default=100) or 100,
            float(p.float("timeout") or 0.0), p.json("allowed_updates"),
        )

    async def api_set_webhook(self, p: Params) -> bool:
        self.feed.set_webhook(
            p.str("url") or "", p.str("secret_token"), p.int("max_connections", default=40) or 40,
            p.json("allowed_updates"), p.bool("drop_pending_updates"),
        )
        return True

    async def api_delete_webhook(self, p: Params) -> bool:
        self.feed.delete_webhook(p.bool("drop_pending_updates"))
        return True

    async def api_get_webhook_info(self, p: Params) -> dict[str, Any]:
        return self.feed.webhook_info()

    # -- sending ----------------------------------------------------------------------------------
    async def api_send_message(self, p: Params) -> dict[str, Any]:
        chat = self._target(p)
        text = p.str("text")
        visible = render_text(text, p.str("parse_mode"))
        markup = check_reply_markup(p.json("reply_markup"))
        self._admit(chat)
        message = self._post(chat, p, kind="text", text=visible, markup=markup,
                             html=text if (p.str("parse_mode") or "").lower() == "html" else None,
                             entities=p.json("entities"))
        return self.world.message_to_api(message)

    async def api_send_photo(self, p: Params) -> dict[str, Any]:
        return await self._send_media(p, "photo")

    async def api_send_document(self, p: Params) -> dict[str, Any]:
        return await self._send_media(p, "document")

    async def api_send_voice(self, p: Params) -> dict[str, Any]:
        return await self._send_media(p, "voice")

    async def _send_media(self, p: Params, kind: str) -> dict[str, Any]:
        chat = self._target(p)
        stored = self._file_param(p, kind)
        caption = render_text(p.str("caption"), p.str("parse_mode"), caption=True) or None
        markup = check_reply_markup(p.json("reply_markup"))
        self._admit(chat)
        extra = {kind: media_object(kind, stored, duration=p.int("duration"))}
        message = self._post(chat, p, kind=kind, text=caption, markup=markup, extra=extra)
        return self.world.message_to_api(message)

    async def api_send_location(self, p: Params) -> dict[str, Any]:
        chat = self._target(p)
        latitude, longitude = p.float("latitude", required=True), p.float("longitude", required=True)
        assert latitude is not None and longitude is not None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong latitude or longitude")
        markup = check_reply_markup(p.json("reply_markup"))
        self._admit(chat)
        message = self._post(chat, p, kind="location", markup=markup,
                             extra={"location": {"latitude": latitude, "longitude": longitude}})
        return self.world.message_to_api(message)

    async def api_send_contact(self, p: Params) -> dict[str, Any]:
        chat = self._target(p)
        contact = {"phone_number": p.str("phone_number", required=True),
                   "first_name": p.str("first_name", required=True)}
        markup = check_reply_markup(p.json("reply_markup"))
        self._admit(chat)
        message = self._post(chat, p, kind="contact", markup=markup, extra={"contact": contact})
        return self.world.message_to_api(message)

    async def api_send_chat_action(self, p: Params) -> bool:
        chat = self._target(p)
        if p.str("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return bool(chat)

    async def api_copy_message(self, p: Params) -> dict[str, Any]:
        chat, source = self._target(p), self._source_message(p, "copy")
        markup = check_reply_markup(p.json("reply_markup"))
        caption = source.text
        if p.has("caption"):
            caption = render_text(p.str("caption"), p.str("parse_mode"), caption=True)
        self._admit(chat)
        extra = {k: v for k, v in source.extra.items() if k in ("voice", "photo", "document", "location", "contact")}
        message = self._post(chat, p, kind=source.kind, text=caption, markup=markup, extra=extra)
        return {"message_id": message.message_id}

    async def api_forward_message(self, p: Params) -> dict[str, Any]:
        chat, source = self._target(p), self._source_message(p, "forward")
        self._admit(chat)
        extra = {k: v for k, v in source.extra.items() if k in ("voice", "photo", "document", "location", "contact")}
        sender = self.world.bot.to_api() if source.from_bot else self.world.people[source.sender_id].to_api()
        extra["forward_origin"] = {"type": "user", "date": int(source.date), "sender_user": sender}
        message = self._post(chat, p, kind=source.kind, text=source.text, markup=None, extra=extra)
        return self.world.message_to_api(message)

    # -- editing ----------------------------------------------------------------------------------
    async def api_edit_message_text(self, p: Params) -> dict[str, Any]:
        chat, message = self._editable(p)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text = p.str("text")
        visible = render_text(text, p.str("parse_mode"))
        html = text if (p.str("parse_mode") or "").lower() == "html" else None
        markup = check_reply_markup(p.json("reply_markup"))  # omitted: the keyboard is removed
        if visible == message.text and html == message.html and markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._admit(chat)
        self.world.edit_message(message, text=visible, html=html, reply_markup=markup,
                                entities=p.json("entities"))
        return self.world.message_to_api(message)

    async def api_edit_message_caption(self, p: Params) -> dict[str, Any]:
        chat, message = self._editable(p)
        if message.kind not in ("photo", "voice", "document"):
            raise bad_request("there is no caption in the message to edit")
        caption = render_text(p.str("caption"), p.str("parse_mode"), caption=True) or None
        markup = check_reply_markup(p.json("reply_markup"))
        if caption == message.text and markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._admit(chat)
        self.world.edit_message(message, text=caption, reply_markup=markup)
        return self.world.message_to_api(message)

    async def api_edit_message_reply_markup(self, p: Params) -> dict[str, Any]:
        chat, message = self._editable(p)
        markup = check_reply_markup(p.json("reply_markup"))
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._admit(chat)
        self.world.edit_message(message, reply_markup=markup)
        return self.world.message_to_api(message)

    async def api_delete_message(self, p: Params) -> bool:
        chat = self._target(p, sending=False)
        message = self.world.find_message(chat, p.int("message_id", required=True) or 0)
        if message is None:
            raise bad_request("message to delete not found")
        too_old = self.world.clock() - message.date > MAX_DELETE_AGE
        may_delete_others = chat.type == "private" or chat.bot_status in ("administrator", "creator")
        if too_old or (not message.from_bot and not may_delete_others):
            raise bad_request("message can't be deleted")
        self.world.delete_message(message)
        return True

    async def api_answer_callback_query(self, p: Params) -> bool:
        query_id = p.str("callback_query_id", required=True) or ""
        asked_at = self.world.pending_callbacks.get(query_id)
        if asked_at is None or self.world.clock() - asked_at > self.callback_answer_timeout:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.str("text")
        if text and len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        del self.world.pending_callbacks[query_id]
        self.world.callback_answers[query_id] = {
            "text": text, "show_alert": p.bool("show_alert"), "url": p.str("url"),
            "answered_at": self.world.clock(),
        }
        self.world.notify()
        return True

    # -- chats ------------------------------------------------------------------------------------
    async def api_get_chat(self, p: Params) -> dict[str, Any]:
        chat = self._target(p, sending=False)
        data = self.world.chat_to_api(chat)
        data.update({"accent_color_id": 0, "max_reaction_count": 11,
                     "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                             "unique_gifts": False, "premium_subscription": False,
                                             "gifts_from_channels": False}})
        if chat.pinned_message_id and chat.pinned_message_id in chat.messages:
            data["pinned_message"] = self.world.message_to_api(chat.messages[chat.pinned_message_id])
        return data

    async def api_get_chat_member(self, p: Params) -> dict[str, Any]:
        chat = self._target(p, sending=False)
        user_id = p.int("user_id", required=True) or 0
        if user_id == self.world.bot.id:
            return member_object(self.world.bot.to_api(), chat.bot_status)
        if user_id not in self.world.people:
            raise bad_request("user not found")
        return member_object(self.world.people[user_id].to_api(), chat.members.get(user_id, "left"))

    async def api_get_chat_administrators(self, p: Params) -> list[dict[str, Any]]:
        chat = self._target(p, sending=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [member_object(self.world.people[uid].to_api(), status)
                  for uid, status in chat.members.items() if status in ("creator", "administrator")]
        if chat.bot_status == "administrator":
            admins.append(member_object(self.world.bot.to_api(), "administrator"))
        return admins

    async def api_get_chat_member_count(self, p: Params) -> int:
        chat = self._target(p, sending=False)
        present = sum(1 for s in chat.members.values() if s in PRESENT)
        return present + (1 if chat.bot_status in PRESENT else 0)

    async def api_pin_chat_message(self, p: Params) -> bool:
        chat = self._target(p)
        message = self.world.find_message(chat, p.int("message_id", required=True) or 0)
        if message is None:
            raise bad_request("message to pin not found")
        if chat.type != "private" and chat.bot_status not in ("administrator", "creator"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        chat.pinned_message_id = message.message_id
        self.world.notify()
        return True

    async def api_unpin_chat_message(self, p: Params) -> bool:
        chat = self._target(p)
        if chat.type != "private" and chat.bot_status not in ("administrator", "creator"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        chat.pinned_message_id = None
        return True

    async def api_leave_chat(self, p: Params) -> bool:
        chat = self._target(p, sending=False)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        if chat.bot_status not in PRESENT:
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        from sandbox.people import (
            set_bot_status,  # people builds on this module; import late
        )

        set_bot_status(self.world, self.feed, chat, "left", by=None)
        return True

    # -- bot profile ------------------------------------------------------------------------------
    async def api_set_my_commands(self, p: Params) -> bool:
        commands = p.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(p)
        self.world.commands[key] = [{"command": c["command"], "description": c["description"]}
                                    for c in commands]
        return True

    async def api_get_my_commands(self, p: Params) -> list[dict[str, str]]:
        return self.world.commands.get(self._scope_key(p), [])

    async def api_delete_my_commands(self, p: Params) -> bool:
        self.world.commands.pop(self._scope_key(p), None)
        return True

    def _scope_key(self, p: Params) -> tuple[str, str]:
        scope = p.json("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            name = kind
        elif kind in ("chat", "chat_administrators", "chat_member"):
            chat = self.world.chat_for_bot(scope.get("chat_id", ""))
            name = f"{kind}:{chat.id}"
            if kind == "chat_member":
                name += f":{int(scope.get('user_id', 0))}"
        else:
            raise bad_request("wrong scope type")
        language = p.str("language_code") or ""
        if language and not re.match(r"^[a-z]{2}$", language):
            raise bad_request("invalid language code specified")
        return name, language

    async def api_set_my_description(self, p: Params) -> bool:
        self.world.descriptions[("description", p.str("language_code") or "")] = p.str("description") or ""
        return True

    async def api_get_my_description(self, p: Params) -> dict[str, str]:
        return {"description": self.world.descriptions.get(("description", p.str("language_code") or ""), "")}

    async def api_set_my_short_description(self, p: Params) -> bool:
        self.world.descriptions[("short", p.str("language_code") or "")] = p.str("short_description") or ""
        return True

    async def api_get_my_short_description(self, p: Params) -> dict[str, str]:
        return {"short_description": self.world.descriptions.get(("short", p.str("language_code") or ""), "")}

    async def api_set_chat_menu_button(self, p: Params) -> bool:
        button = p.json("menu_button") or {"type": "default"}
        if p.has("chat_id"):
            self._target(p, sending=False).menu_button = button
        else:
            self.world.default_menu_button = button
        return True

    async def api_get_chat_menu_button(self, p: Params) -> dict[str, Any]:
        if p.has("chat_id"):
            chat = self._target(p, sending=False)
            if chat.menu_button:
                return chat.menu_button
        return self.world.default_menu_button

    async def api_get_file(self, p: Params) -> dict[str, Any]:
        stored = self.world.files.get(p.str("file_id", required=True) or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    # -- shared checks ----------------------------------------------------------------------------
    def _target(self, p: Params, *, sending: bool = True) -> Chat:
        """The chat named by ``chat_id``; with ``sending``, also check the bot may post there."""
        chat = self.world.chat_for_bot(p.chat_id() or "")
        if chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": chat.migrated_to})
        if not sending:
            return chat
        if chat.type == "private":
            person = self.world.people[chat.id]
            if person.blocked_bot:
                raise forbidden("bot was blocked by the user")
            if not person.started_bot:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        elif chat.bot_status not in PRESENT:
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    def _admit(self, chat: Chat) -> None:
        retry_after = self.flood.admit(chat.id, chat.type == "private", self.world.clock())
        if retry_after is not None:
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}",
                           {"retry_after": retry_after})

    def _post(self, chat: Chat, p: Params, *, kind: str, markup: dict[str, Any] | None,
              text: str | None = None, html: str | None = None,
              entities: list[dict[str, Any]] | None = None,
              extra: dict[str, Any] | None = None) -> StoredMessage:
        extra = dict(extra or {})
        reply_to = self._reply_target(chat, p)
        if reply_to is not None:
            extra["reply_to_message"] = self.world.message_to_api(reply_to)
        inline = markup if markup and "inline_keyboard" in markup else None
        message = self.world.add_message(
            chat, sender_id=self.world.bot.id, from_bot=True, kind=kind, text=text, html=html,
            entities=entities, reply_markup=inline, protect_content=p.bool("protect_content"),
            extra=extra,
        )
        if markup and "inline_keyboard" not in markup:
            chat.reply_keyboard = None if markup.get("remove_keyboard") else markup
        return message

    def _reply_target(self, chat: Chat, p: Params) -> StoredMessage | None:
        parameters = p.json("reply_parameters") or {}
        message_id = parameters.get("message_id") if isinstance(parameters, dict) else None
        message_id = message_id or p.int("reply_to_message_id")
        if not message_id:
            return None
        message = self.world.find_message(chat, int(message_id))
        if message is None and not (isinstance(parameters, dict) and parameters.get("allow_sending_without_reply")):
            raise bad_request("message to be replied not found")
        return message

    def _editable(self, p: Params) -> tuple[Chat, StoredMessage]:
        if p.has("inline_message_id"):
            raise bad_request("inline messages are not supported by the sandbox")
        chat = self._target(p, sending=False)
        message = self.world.find_message(chat, p.int("message_id", required=True) or 0)
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _source_message(self, p: Params, verb: str) -> StoredMessage:
        source_chat = self.world.chat_for_bot(p.chat_id("from_chat_id") or "")
        message = self.world.find_message(source_chat, p.int("message_id", required=True) or 0)
        if message is None:
            raise bad_request(f"message to {verb} not found")
        if message.protect_content:
            raise bad_request(f"message has protected content and can't be {verb}ed".replace("copyed", "copied"))
        if message.kind == "service":
            raise bad_request(f"message can't be {verb}ed".replace("copyed", "copied"))
        return message

    def _file_param(self, p: Params, kind: str) -> StoredFile:
        upload = p.uploads.get(kind)
        value = p.str(kind)
        if upload is None and value and value.startswith("attach://"):
            upload = p.uploads.get(value[len("attach://"):])
        if upload is not None:
            return self.world.store_file(upload.data, file_name=upload.filename,
                                         mime_type=upload.content_type)
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        stored = self.world.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored


def media_object(kind: str, stored: StoredFile, *, duration: int | None = None) -> Any:
    """The Bot API object describing a file of ``kind`` (photos come in two sizes)."""
    base = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data)}
    if kind == "photo":
        return [{**base, "width": 90, "height": 90}, {**base, "width": 800, "height": 800}]
    if kind == "voice":
        return {**base, "duration": duration or 1, "mime_type": stored.mime_type or "audio/ogg"}
    if kind == "sticker":
        return {**base, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
    if kind in ("video", "animation"):
        return {**base, "width": 640, "height": 360, "duration": duration or 1}
    if kind == "video_note":
        return {**base, "length": 240, "duration": duration or 1}
    if kind == "audio":
        return {**base, "duration": duration or 1, "mime_type": stored.mime_type or "audio/mpeg"}
    return {**base, "file_name": stored.file_name or "file",
            "mime_type": stored.mime_type or "application/octet-stream"}


def member_object(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember of ``status`` with the fields python-telegram-bot requires for it."""
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = dict.fromkeys(
            ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
             "can_restrict_members", "can_change_info", "can_invite_users", "can_post_stories",
             "can_edit_stories", "can_delete_stories", "can_pin_messages"), True)
        return {"status": "administrator", "user": user, "can_be_edited": False,
                "is_anonymous": False, "can_promote_members": False, **rights}
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    return {"status": status, "user": user}

