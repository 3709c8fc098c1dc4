"""A typed client for the sandbox's control API: create people and groups, act as them, and read
chats as they see them. Works against a sandbox in this process or in another one.

    async with SandboxClient(base_url) as sandbox:
        alice = await sandbox.create_user("Alice", language_code="zh-hans")
        await alice.start()
        reply = await alice.next_message()
        await alice.tap("Accept", chat_id=group.id)
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.errors import ControlError


@dataclass(frozen=True)
class MessageView:
    """A message as a person sees it now; ``history`` keeps its earlier versions."""

    message_id: int
    chat_id: int
    from_bot: bool
    sender_id: int
    kind: str
    text: str | None
    html: str | None
    buttons: list[list[dict[str, Any]]]
    protect_content: bool
    date: float
    edit_date: float | None
    deleted: bool
    extra: dict[str, Any]
    history: list[dict[str, Any]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessageView:
        """Build from the control API's JSON."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    @property
    def button_texts(self) -> list[str]:
        """Every inline button label, row by row."""
        return [b["text"] for row in self.buttons for b in row]

    def callback_data(self, text: str) -> str | None:
        """The callback data behind the button labelled ``text``."""
        for row in self.buttons:
            for button in row:
                if button["text"] == text:
                    return button.get("callback_data")
        return None


@dataclass(frozen=True)
class ChatView:
    """A whole chat: members, the reply keyboard on screen, and every message."""

    id: int
    type: str
    title: str | None
    bot_status: str
    migrated_to: int | None
    members: dict[str, str]
    reply_keyboard: list[list[str]] | None
    pinned_message_id: int | None
    last_seq: int
    messages: list[MessageView]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatView:
        """Build from the control API's JSON."""
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k != "messages"}
        return cls(**fields, messages=[MessageView.from_json(m) for m in data["messages"]])

    @property
    def bot_messages(self) -> list[MessageView]:
        """The bot's messages that are still there, oldest first."""
        return [m for m in self.messages if m.from_bot and not m.deleted]

    def message(self, message_id: int) -> MessageView:
        """The message with ``message_id`` (KeyError if there is none)."""
        for message in self.messages:
            if message.message_id == message_id:
                return message
        raise KeyError(message_id)


@dataclass(frozen=True)
class CallbackAnswer:
    """How the bot answered a button tap (``answered`` is False if it has not yet)."""

    answered: bool
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass(frozen=True)
class Tap:
    """A button tap that reached the bot as a callback query."""

    callback_query_id: str
    update_id: int | None
    message_id: int
    created_at: float


class SandboxClient:
    """Async client for one sandbox server (``base_url`` as printed by ``python -m sandbox``)."""

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout)

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._http.request(method, path, **kwargs)
        body = response.json()
        if response.status_code != 200:
            raise ControlError(body.get("error", response.text))
        return body

    # -- people and groups ----------------------------------------------------------------------
    async def create_user(self, first_name: str, *, last_name: str | None = None,
                          username: str | None = None, language_code: str | None = "en",
                          phone_number: str | None = None) -> SimUser:
        """Create a simulated person (who has not yet started the bot)."""
        data = await self._call("POST", "/sandbox/users", json={
            "first_name": first_name, "last_name": last_name, "username": username,
            "language_code": language_code, "phone_number": phone_number})
        return SimUser(self, data["id"], first_name, data.get("username"), data.get("language_code"),
                       data["phone_number"])

    async def create_group(self, title: str, *, creator: SimUser, members: list[SimUser] = (),  # type: ignore[assignment]
                           admins: list[SimUser] = (), supergroup: bool = False) -> SimGroup:  # type: ignore[assignment]
        """Create a group whose people are already members (the bot is not, until added)."""
        data = await self._call("POST", "/sandbox/groups", json={
            "title": title, "creator": creator.id, "members": [m.id for m in members],
            "admins": [a.id for a in admins], "supergroup": supergroup})
        return SimGroup(self, data["id"], title)

    async def act(self, *actions: dict[str, Any]) -> list[dict[str, Any]]:
        """Carry out raw actions in one request, so their updates reach the bot together."""
        data = await self._call("POST", "/sandbox/actions", json={"actions": list(actions)})
        return data["results"]

    def batch(self) -> Batch:
        """Collect actions of many people and run them at once (see :class:`Batch`)."""
        return Batch(self)

    # -- reading --------------------------------------------------------------------------------
    async def chat(self, chat_id: int) -> ChatView:
        """A chat as its members see it now."""
        return ChatView.from_json(await self._call("GET", f"/sandbox/chats/{chat_id}"))

    async def events(self, chat_id: int, after: int, timeout: float) -> tuple[list[dict[str, Any]], int]:
        """Changes in a chat after sequence number ``after``, waiting up to ``timeout`` for one."""
        data = await self._call("GET", f"/sandbox/chats/{chat_id}/events",
                                params={"after": after, "timeout": timeout},
                                timeout=timeout + 10)
        return data["events"], data["last_seq"]

    async def wait_for(self, chat_id: int, predicate: Callable[[ChatView], bool], *,
                       timeout: float = 10.0) -> ChatView:
        """Wait until ``predicate`` holds for the chat as its members see it."""
        deadline = time.monotonic() + timeout
        view = await self.chat(chat_id)
        while not predicate(view):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"chat {chat_id} never reached the expected state; last: {view}")
            await self.events(chat_id, view.last_seq, min(remaining, 5.0))
            view = await self.chat(chat_id)
        return view

    async def callback_answer(self, query_id: str, *, timeout: float = 10.0) -> CallbackAnswer:
        """The bot's answer to a tap, waiting up to ``timeout`` for it."""
        data = await self._call("GET", f"/sandbox/callbacks/{query_id}", params={"timeout": timeout},
                                timeout=timeout + 10)
        return CallbackAnswer(data["answered"], data.get("text"), bool(data.get("show_alert")), data.get("url"))

    async def commands(self, user: SimUser, chat_id: int | None = None) -> list[dict[str, str]]:
        """The command menu ``user`` sees in a chat (their private chat by default)."""
        params = {"user_id": user.id, "chat_id": chat_id if chat_id is not None else user.id}
        return (await self._call("GET", "/sandbox/commands", params=params))["commands"]

    async def calls(self, method: str | None = None, *, after: int = 0) -> list[dict[str, Any]]:
        """Recorded Bot API calls (optionally of one method), oldest first."""
        params: dict[str, Any] = {"after": after}
        if method:
            params["method"] = method
        return (await self._call("GET", "/sandbox/calls", params=params))["calls"]

    async def flood_violations(self) -> list[dict[str, Any]]:
        """Calls that arrived while a retry_after window was open: a polite client has none."""
        return (await self._call("GET", "/sandbox/flood"))["violations"]

    async def webhook_stats(self) -> dict[str, Any]:
        """getWebhookInfo plus how many deliveries were tried and how many failed."""
        return await self._call("GET", "/sandbox/webhook")

    # -- faults ---------------------------------------------------------------------------------
    async def fail_next(self, kind: str, *, count: int = 1, method: str | None = None,
                        chat_id: int | None = None, retry_after: int = 1, status: int = 502,
                        delay: float = 1.0, apply: bool = False) -> None:
        """Make the next ``count`` matching calls fail: ``"429"``, ``"5xx"``, ``"slow"`` or ``"drop"``."""
        await self._call("POST", "/sandbox/faults", json={
            "kind": kind, "count": count, "method": method, "chat_id": chat_id,
            "retry_after": retry_after, "status": status, "delay": delay, "apply": apply})

    async def clear_faults(self) -> None:
        """Disarm every fault that has not fired yet."""
        await self._call("DELETE", "/sandbox/faults")

    async def duplicate_next_updates(self, count: int = 1) -> None:
        """Deliver each of the next ``count`` updates twice, with the same ``update_id``."""
        await self._call("POST", "/sandbox/updates/duplicate", json={"count": count})

    async def redeliver(self, update_id: int) -> None:
        """Deliver an already delivered update once more."""
        await self._call("POST", f"/sandbox/updates/{update_id}/redeliver")

    async def inject(self, kind: str, payload: Any, *, force: bool = True) -> int | None:
        """Queue a raw update ``{"update_id": ..., kind: payload}`` as given, malformed or not;
        ``force`` delivers it even if the bot did not ask for ``kind``. Returns its update id."""
        return (await self.act({"type": "inject", "kind": kind, "payload": payload, "force": force}))[0]["update_id"]

    async def acknowledged(self, update_id: int, *, timeout: float = 0.0) -> bool:
        """Whether the bot acknowledged (so, by its promise, handled) an update, waiting up to ``timeout``."""
        data = await self._call("GET", f"/sandbox/updates/{update_id}", params={"timeout": timeout},
                                timeout=timeout + 10)
        return bool(data["acknowledged"])

    async def pending_callbacks(self) -> list[str]:
        """Ids of the taps the bot has not answered yet, oldest first."""
        return (await self._call("GET", "/sandbox/callbacks"))["pending"]


@dataclass
class SimUser:
    """A simulated person; every call acts through the sandbox's control API."""

    sandbox: SandboxClient
    id: int
    first_name: str
    username: str | None
    language_code: str | None
    phone_number: str
    _cursor: dict[int, int] = field(default_factory=dict, repr=False)

    async def _one(self, action: dict[str, Any]) -> dict[str, Any]:
        return (await self.sandbox.act({"user_id": self.id, **action}))[0]

    async def start(self, payload: str | None = None) -> dict[str, Any]:
        """Press Start, optionally arriving through a deep link ``t.me/<bot>?start=<payload>``."""
        return await self._one({"type": "start", "payload": payload})

    async def send(self, text: str, *, chat_id: int | None = None, reply_to: int | None = None,
                   anonymous: bool = False) -> dict[str, Any]:
        """Type a message (a ``/command`` gets its entity; in groups write ``/cmd@bot``);
        ``anonymous``: a group administrator writes as the group (``sender_chat``)."""
        return await self._one({"type": "send_text", "text": text, "chat_id": chat_id, "reply_to": reply_to,
                                "anonymous": anonymous})

    async def share_contact(self, *, phone_number: str | None = None, chat_id: int | None = None,
                            of_user: SimUser | None = None) -> dict[str, Any]:
        """Share one's own contact (or a typed-in number, or ``of_user``'s contact card) in a chat."""
        return await self._one({"type": "contact", "phone_number": phone_number, "chat_id": chat_id,
                                "of_user": of_user.id if of_user is not None else None})

    async def forward(self, text: str, *, origin: SimUser | None = None, chat_id: int | None = None) -> dict[str, Any]:
        """Forward a text message written by ``origin`` (None: by someone who hides their account)."""
        return await self._one({"type": "forward", "text": text, "chat_id": chat_id,
                                "origin_user": origin.id if origin is not None else None})

    async def edit(self, message_id: int, text: str, *, chat_id: int | None = None,
                   force: bool = False) -> dict[str, Any]:
        """Edit one's own text message (the bot gets ``edited_message``; ``force``: even unasked)."""
        return await self._one({"type": "edit", "message_id": message_id, "text": text, "chat_id": chat_id,
                                "force": force})

    async def forge_tap(self, data: str, *, chat_id: int | None = None, message_id: int | None = None) -> Tap:
        """A callback query with any ``data`` on a message (the bot's newest in the chat by default),
        as a modified client can send."""
        result = await self._one({"type": "forge_tap", "data": data, "chat_id": chat_id, "message_id": message_id})
        return Tap(result["callback_query_id"], result["update_id"], result["message_id"], result["created_at"])

    async def send_location(self, latitude: float, longitude: float, *, chat_id: int | None = None) -> dict[str, Any]:
        """Send a location pin."""
        return await self._one({"type": "location", "latitude": latitude, "longitude": longitude, "chat_id": chat_id})

    async def send_voice(self, data: bytes = b"OggS-voice", *, duration: int = 3,
                         chat_id: int | None = None) -> dict[str, Any]:
        """Record and send a voice note with these bytes."""
        return await self._send_media("voice", data, chat_id=chat_id, duration=duration)

    async def send_photo(self, data: bytes = b"\xff\xd8photo", *, caption: str | None = None,
                         chat_id: int | None = None) -> dict[str, Any]:
        """Send a photo with these bytes."""
        return await self._send_media("photo", data, chat_id=chat_id, caption=caption)

    async def send_document(self, data: bytes, *, file_name: str, mime_type: str | None = None,
                            caption: str | None = None, chat_id: int | None = None) -> dict[str, Any]:
        """Send a file (a roster spreadsheet, say)."""
        return await self._send_media("document", data, chat_id=chat_id, caption=caption,
                                      file_name=file_name, mime_type=mime_type)

    async def send_file(self, kind: str, data: bytes = b"\x00media", *, caption: str | None = None,
                        chat_id: int | None = None) -> dict[str, Any]:
        """Send any media ``kind``: sticker, video, audio, animation, video_note (no caption on a
        sticker or a video note), or voice, photo, document."""
        fields: dict[str, Any] = {"chat_id": chat_id}
        if caption is not None:
            fields["caption"] = caption
        return await self._send_media(kind, data, **fields)

    async def _send_media(self, kind: str, data: bytes, **fields: Any) -> dict[str, Any]:
        return await self._one({"type": "media", "kind": kind,
                                "data_b64": base64.b64encode(data).decode(), **fields})

    async def press(self, text: str) -> dict[str, Any]:
        """Press a reply-keyboard button in the private chat (contact buttons share the contact)."""
        return await self._one({"type": "press", "text": text})

    async def tap(self, text: str, *, chat_id: int | None = None, message_id: int | None = None) -> Tap:
        """Tap an inline button by its label, on the newest message that shows it."""
        result = await self._one({"type": "tap", "text": text, "chat_id": chat_id, "message_id": message_id})
        if "callback_query_id" not in result:
            raise ControlError(f"button {text!r} opened {result.get('url')}, it is not a callback button")
        return Tap(result["callback_query_id"], result["update_id"], result["message_id"], result["created_at"])

    async def tap_and_read_answer(self, text: str, *, chat_id: int | None = None,
                                  message_id: int | None = None, timeout: float = 10.0) -> CallbackAnswer:
        """Tap a button and wait for the bot's answer (the toast or alert the person sees)."""
        tap = await self.tap(text, chat_id=chat_id, message_id=message_id)
        return await self.sandbox.callback_answer(tap.callback_query_id, timeout=timeout)

    async def block_bot(self) -> dict[str, Any]:
        """Block the bot: sends to this person fail with 403 and the bot gets ``my_chat_member``."""
        return await self._one({"type": "block"})

    async def unblock_bot(self) -> dict[str, Any]:
        """Unblock the bot."""
        return await self._one({"type": "unblock"})

    async def next_message(self, *, chat_id: int | None = None, timeout: float = 10.0) -> MessageView:
        """The bot's next new message in a chat (private by default) after the last one returned."""
        chat = chat_id if chat_id is not None else self.id
        deadline = time.monotonic() + timeout
        while True:
            after = self._cursor.get(chat, 0)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.first_name} got no new bot message in chat {chat} within {timeout}s")
            events, _ = await self.sandbox.events(chat, after, min(remaining, 5.0))
            for event in events:
                self._cursor[chat] = event["seq"]
                if event["kind"] == "message" and event["message"]["from_bot"]:
                    return MessageView.from_json(event["message"])

    async def skip_to_now(self, *, chat_id: int | None = None) -> None:
        """Treat every message already in the chat as read by :meth:`next_message`."""
        chat = chat_id if chat_id is not None else self.id
        self._cursor[chat] = (await self.sandbox.chat(chat)).last_seq

    async def chat(self, chat_id: int | None = None) -> ChatView:
        """A chat as this person sees it (their private chat with the bot by default)."""
        return await self.sandbox.chat(chat_id if chat_id is not None else self.id)

    async def reply_keyboard(self) -> list[list[str]] | None:
        """The reply keyboard shown under the input field of the private chat."""
        return (await self.chat()).reply_keyboard

    async def wait_for(self, predicate: Callable[[ChatView], bool], *, chat_id: int | None = None,
                       timeout: float = 10.0) -> ChatView:
        """Wait until ``predicate`` holds for a chat (the private one by default)."""
        return await self.sandbox.wait_for(chat_id if chat_id is not None else self.id, predicate, timeout=timeout)


@dataclass
class SimGroup:
    """A simulated group chat."""

    sandbox: SandboxClient
    id: int
    title: str

    async def add_bot(self, by: SimUser, *, admin: bool = False) -> dict[str, Any]:
        """``by`` adds the bot (as an administrator with ``admin``); the bot gets ``my_chat_member``."""
        return (await self.sandbox.act({"type": "add_bot", "user_id": by.id, "chat_id": self.id, "admin": admin}))[0]

    async def remove_bot(self, by: SimUser) -> dict[str, Any]:
        """``by`` removes the bot; the bot gets ``my_chat_member``."""
        return (await self.sandbox.act({"type": "remove_bot", "user_id": by.id, "chat_id": self.id}))[0]

    async def join(self, user: SimUser) -> dict[str, Any]:
        """``user`` joins; the bot sees the service message (and ``chat_member`` when admin)."""
        return (await self.sandbox.act({"type": "join", "user_id": user.id, "chat_id": self.id}))[0]

    async def leave(self, user: SimUser) -> dict[str, Any]:
        """``user`` leaves; the bot sees the service message (and ``chat_member`` when admin)."""
        return (await self.sandbox.act({"type": "leave", "user_id": user.id, "chat_id": self.id}))[0]

    async def migrate(self, by: SimUser) -> SimGroup:
        """Upgrade to a supergroup; returns the group under its new id."""
        result = (await self.sandbox.act({"type": "migrate", "user_id": by.id, "chat_id": self.id}))[0]
        return SimGroup(self.sandbox, result["new_chat_id"], self.title)

    async def view(self) -> ChatView:
        """The group as its members see it now."""
        return await self.sandbox.chat(self.id)

    async def wait_for(self, predicate: Callable[[ChatView], bool], *, timeout: float = 10.0) -> ChatView:
        """Wait until ``predicate`` holds for the group."""
        return await self.sandbox.wait_for(self.id, predicate, timeout=timeout)


class Batch:
    """Actions of many people sent in one request: their updates reach the bot at the same moment.

        batch = sandbox.batch()
        for volunteer in volunteers:
            batch.tap(volunteer, "Accept", chat_id=group.id)
        taps = await batch.run()
    """

    def __init__(self, sandbox: SandboxClient) -> None:
        self.sandbox = sandbox
        self.actions: list[dict[str, Any]] = []

    def send(self, user: SimUser, text: str, *, chat_id: int | None = None) -> Batch:
        """Add a typed message by ``user``."""
        self.actions.append({"type": "send_text", "user_id": user.id, "text": text, "chat_id": chat_id})
        return self

    def tap(self, user: SimUser, text: str, *, chat_id: int | None = None, message_id: int | None = None) -> Batch:
        """Add a tap on the inline button labelled ``text``."""
        self.actions.append({"type": "tap", "user_id": user.id, "text": text, "chat_id": chat_id,
                             "message_id": message_id})
        return self

    async def run(self) -> list[dict[str, Any]]:
        """Send every collected action in one request; returns one result per action."""
        return await self.sandbox.act(*self.actions)


async def gather_answers(sandbox: SandboxClient, query_ids: list[str], *,
                         timeout: float = 10.0) -> list[CallbackAnswer]:
    """The answers to many taps, waited for concurrently."""
    return list(await asyncio.gather(*(sandbox.callback_answer(q, timeout=timeout) for q in query_ids)))
