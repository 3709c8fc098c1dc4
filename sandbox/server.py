"""The sandbox's HTTP server: the Bot API under ``/bot<token>/<method>``, files under
``/file/bot<token>/<path>``, and the control API under ``/sandbox/`` that drives simulated people.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from sandbox.botapi import RATE_LIMITED, BotApi
from sandbox.clock import Clock, system_clock
from sandbox.delivery import UpdateFeed
from sandbox.errors import ApiError, ControlError, too_many_requests
from sandbox.faults import Fault, FaultPlan
from sandbox.flood import FloodControl, FloodLimits, scope_for
from sandbox.params import Params, Upload
from sandbox.people import People
from sandbox.views import chat_view, events_after, visible_commands
from sandbox.world import BotIdentity, World

MAX_BODY = 50 * 1024 * 1024


@dataclass
class CallRecord:
    """One Bot API call as the server saw it."""

    seq: int
    time: float
    method: str
    params: dict[str, Any]
    chat_id: int | None
    status: int = 200
    description: str | None = None
    fault: str | None = None


@dataclass
class SandboxServer:
    """A fake Telegram Bot API server for one bot, with simulated people around it.

    Use ``async with SandboxServer() as server:`` and point python-telegram-bot at
    ``server.bot_api_url`` (``ApplicationBuilder().base_url(...)``); drive people with
    ``server.client()``.
    """

    token: str = "123456789:SANDBOX-token"
    host: str = "127.0.0.1"
    port: int = 0
    bot_username: str = "sandbox_bot"
    flood_limits: FloodLimits = field(default_factory=FloodLimits)
    privacy_mode: bool = True
    callback_answer_timeout: float = 15.0
    webhook_retry_delay: float = 0.5
    clock: Clock = system_clock

    def __post_init__(self) -> None:
        bot_id = int(self.token.split(":", 1)[0])
        self.world = World(BotIdentity(bot_id, self.bot_username), self.clock)
        self.feed = UpdateFeed(self.clock, webhook_retry_delay=self.webhook_retry_delay)
        self.flood = FloodControl(self.flood_limits)
        self.faults = FaultPlan()
        self.api = BotApi(self.world, self.feed, self.flood, self.callback_answer_timeout)
        self.people = People(self.world, self.feed, privacy_mode=self.privacy_mode)
        self.calls: list[CallRecord] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> str:
        """Start serving; returns the base URL (``http://127.0.0.1:<port>``)."""
        app = web.Application(client_max_size=MAX_BODY)
        app.add_routes(self._routes())
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # port 0 asked for any free port
        self.base_url = f"http://{self.host}:{self.port}"
        await self.feed.start()
        return self.base_url

    async def stop(self) -> None:
        """Stop delivering updates and close the server."""
        await self.feed.close()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def bot_api_url(self) -> str:
        """The value for python-telegram-bot's ``base_url`` (the token is appended to it)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """The value for python-telegram-bot's ``base_file_url``."""
        return f"{self.base_url}/file/bot"

    def client(self) -> Any:
        """A :class:`~sandbox.client.SandboxClient` for this server."""
        from sandbox.client import SandboxClient

        return SandboxClient(self.base_url)

    # -- routes ---------------------------------------------------------------------------------
    def _routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", "/bot{token}/{method}", self._bot_api),
            web.get("/file/bot{token}/{path:.+}", self._file),
            web.get("/sandbox/bot", self._c_bot),
            web.post("/sandbox/users", self._c_create_user),
            web.post("/sandbox/groups", self._c_create_group),
            web.post("/sandbox/actions", self._c_actions),
            web.get("/sandbox/chats/{chat_id}", self._c_chat),
            web.get("/sandbox/chats/{chat_id}/events", self._c_events),
            web.get("/sandbox/callbacks", self._c_pending_callbacks),
            web.get("/sandbox/callbacks/{query_id}", self._c_callback_answer),
            web.get("/sandbox/commands", self._c_commands),
            web.post("/sandbox/faults", self._c_arm_fault),
            web.delete("/sandbox/faults", self._c_clear_faults),
            web.post("/sandbox/updates/duplicate", self._c_duplicate),
            web.post("/sandbox/updates/{update_id}/redeliver", self._c_redeliver),
            web.get("/sandbox/updates/{update_id}", self._c_update_state),
            web.get("/sandbox/calls", self._c_calls),
            web.get("/sandbox/flood", self._c_flood),
            web.get("/sandbox/webhook", self._c_webhook),
        ]

    async def _bot_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _api_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = request.match_info["method"]
        params = await _read_params(request)
        chat_id = _int_or_none(params.values.get("chat_id"))
        record = CallRecord(len(self.calls) + 1, self.clock(), method, params.loggable(), chat_id)
        self.calls.append(record)
        implementation = self.api.method(method)
        try:
            if implementation is None:
                raise ApiError(404, "Not Found")
            fault = self.faults.take(method, chat_id)
            if fault is not None:
                record.fault = fault.kind
                early = await self._apply_fault(fault, request, implementation, params, chat_id)
                if early is not None:
                    record.status = early.status
                    return early
            if method.lower() in RATE_LIMITED:
                left = self.flood.inside_window(method, chat_id, self.clock())
                if left is not None:
                    raise too_many_requests(left)
            result = await implementation(params)
        except ApiError as error:
            record.status, record.description = error.error_code, error.description
            return _api_json(error.error_code, error.to_body())
        return _api_json(200, {"ok": True, "result": result})

    async def _apply_fault(self, fault: Fault, request: web.Request, implementation: Any,
                           params: Params, chat_id: int | None) -> web.StreamResponse | None:
        """Carry out an armed fault; a response returned here replaces the real answer."""
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        if fault.kind == "429":
            self.flood.open_window(scope_for(chat_id), self.clock(), fault.retry_after)
            raise too_many_requests(fault.retry_after)
        if fault.kind == "5xx":
            reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                      504: "Gateway Timeout"}.get(fault.status, "Server Error")
            return _api_json(fault.status, {"ok": False, "error_code": fault.status, "description": reason})
        if fault.apply:  # "drop" after doing the work: the client never learns it succeeded
            with contextlib.suppress(ApiError):
                await implementation(params)
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=499)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        unique = request.match_info["path"].rsplit("/", 1)[-1]
        for stored in self.world.files.values():
            if stored.file_unique_id == unique:
                return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
        return web.Response(status=404)

    # -- control API ----------------------------------------------------------------------------
    async def _c_bot(self, request: web.Request) -> web.Response:
        return _ok({"bot": self.world.bot.to_api(), "token": self.token, "bot_api_url": self.bot_api_url,
                    "file_url": self.file_url})

    async def _c_create_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        person = self.people.create_user(
            body["first_name"], last_name=body.get("last_name"), username=body.get("username"),
            language_code=body.get("language_code", "en"), phone_number=body.get("phone_number"),
        )
        return _ok({**person.to_api(), "phone_number": person.phone_number})

    async def _c_create_group(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat = self.people.create_group(
            body["title"], creator=int(body["creator"]), members=body.get("members", []),
            admins=body.get("admins", []), supergroup=bool(body.get("supergroup", False)),
        )
        return _ok(chat_view(self.world, chat))

    async def _c_actions(self, request: web.Request) -> web.Response:
        body = await request.json()
        results = []
        for index, action in enumerate(body.get("actions", [])):
            try:
                results.append(self.act(action))
            except (ControlError, KeyError, ValueError, TypeError) as error:
                return _control_error(f"action {index} ({action.get('type')}): {error}")
        return _ok({"results": results})

    def act(self, action: dict[str, Any]) -> dict[str, Any]:
        """One thing a person does (``type``: start, send_text, contact, tap, press, media, …), as
        ``POST /sandbox/actions`` takes it; in-process callers (the demo's page) use it directly."""
        kind, user = action["type"], int(action.get("user_id", 0))
        chat_id = _int_or_none(action.get("chat_id"))
        people = self.people
        created = self.clock()
        if kind == "start":
            result = people.start(user, action.get("payload"))
        elif kind == "send_text":
            result = people.send_text(user, action["text"], chat_id=chat_id, reply_to=action.get("reply_to"),
                                      anonymous=bool(action.get("anonymous", False)))
        elif kind == "contact":
            result = people.share_contact(user, chat_id=chat_id, phone_number=action.get("phone_number"),
                                          of_user=_int_or_none(action.get("of_user")))
        elif kind == "forward":
            result = people.forward(user, action["text"], origin_user=_int_or_none(action.get("origin_user")),
                                    chat_id=chat_id)
        elif kind == "edit":
            result = people.edit_text(user, int(action["message_id"]), action["text"], chat_id=chat_id,
                                      force=bool(action.get("force", False)))
        elif kind == "forge_tap":
            result = people.forge_tap(user, action["data"], chat_id=chat_id,
                                      message_id=_int_or_none(action.get("message_id")))
        elif kind == "inject":
            result = people.inject(action["kind"], action.get("payload"), force=bool(action.get("force", True)))
        elif kind == "location":
            result = people.send_location(user, float(action["latitude"]), float(action["longitude"]), chat_id=chat_id)
        elif kind == "media":
            result = people.send_media(
                user, action["kind"], base64.b64decode(action.get("data_b64", "")), chat_id=chat_id,
                caption=action.get("caption"), file_name=action.get("file_name"),
                mime_type=action.get("mime_type"), duration=int(action.get("duration", 3)))
        elif kind == "tap":
            result = people.tap(user, action["text"], chat_id=chat_id, message_id=action.get("message_id"))
        elif kind == "press":
            result = people.press(user, action["text"])
        elif kind == "block":
            result = people.block(user)
        elif kind == "unblock":
            result = people.unblock(user)
        elif kind == "add_bot":
            result = people.add_bot(int(action["chat_id"]), user, admin=bool(action.get("admin", False)))
        elif kind == "remove_bot":
            result = people.remove_bot(int(action["chat_id"]), user)
        elif kind == "join":
            result = people.join(int(action["chat_id"]), user)
        elif kind == "leave":
            result = people.leave(int(action["chat_id"]), user)
        elif kind == "migrate":
            result = people.migrate(int(action["chat_id"]), user)
        else:
            raise ControlError(f"unknown action type {kind!r}")
        return {**result, "created_at": created}

    async def _c_chat(self, request: web.Request) -> web.Response:
        try:
            chat = self.world.chat(int(request.match_info["chat_id"]))
        except (ControlError, ValueError) as error:
            return _control_error(str(error), status=404)
        return _ok(chat_view(self.world, chat))

    async def _c_events(self, request: web.Request) -> web.Response:
        """Long-poll for changes in a chat after ``after`` (a sequence number)."""
        try:
            chat = self.world.chat(int(request.match_info["chat_id"]))
        except (ControlError, ValueError) as error:
            return _control_error(str(error), status=404)
        after = int(request.query.get("after", 0))
        deadline = time.monotonic() + float(request.query.get("timeout", 0))  # a real wait, not sandbox time
        while True:
            events = events_after(chat, after)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0:
                return _ok({"events": events, "last_seq": chat.events[-1].seq if chat.events else 0})
            await self.world.wait_for_change(remaining)

    async def _c_callback_answer(self, request: web.Request) -> web.Response:
        query_id = request.match_info["query_id"]
        deadline = time.monotonic() + float(request.query.get("timeout", 0))
        while True:
            answer = self.world.callback_answers.get(query_id)
            remaining = deadline - time.monotonic()
            if answer is not None or remaining <= 0:
                return _ok({"answered": answer is not None, **(answer or {})})
            await self.world.wait_for_change(remaining)

    async def _c_pending_callbacks(self, request: web.Request) -> web.Response:
        """Taps the bot has not answered yet, oldest first."""
        pending = sorted(self.world.pending_callbacks.items(), key=lambda item: item[1])
        return _ok({"pending": [query_id for query_id, _ in pending], "answered": len(self.world.callback_answers)})

    async def _c_update_state(self, request: web.Request) -> web.Response:
        """Whether the bot acknowledged an update, waiting up to ``timeout`` real seconds for it."""
        try:
            update_id = int(request.match_info["update_id"])
            acknowledged = await self.feed.wait_acknowledged(update_id, float(request.query.get("timeout", 0)))
        except (ApiError, ValueError) as error:
            return _control_error(str(error), status=404)
        return _ok({"update_id": update_id, "acknowledged": acknowledged})

    async def _c_commands(self, request: web.Request) -> web.Response:
        try:
            commands = visible_commands(self.world, int(request.query["user_id"]),
                                        int(request.query.get("chat_id", request.query["user_id"])))
        except (ControlError, KeyError, ValueError) as error:
            return _control_error(str(error))
        return _ok({"commands": commands})

    async def _c_arm_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.faults.arm(Fault(**body))
        except (TypeError, ValueError) as error:
            return _control_error(str(error))
        return _ok({"armed": [asdict(f) for f in self.faults.armed]})

    async def _c_clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return _ok({"armed": []})

    async def _c_duplicate(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.feed.duplicate_next += int(body.get("count", 1))
        return _ok({"duplicate_next": self.feed.duplicate_next})

    async def _c_redeliver(self, request: web.Request) -> web.Response:
        try:
            self.feed.redeliver(int(request.match_info["update_id"]))
        except (ApiError, ValueError) as error:
            return _control_error(str(error), status=404)
        return _ok({})

    async def _c_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method", "").lower()
        after = int(request.query.get("after", 0))
        calls = [asdict(c) for c in self.calls
                 if c.seq > after and (not method or c.method.lower() == method)]
        return _ok({"calls": calls})

    async def _c_flood(self, request: web.Request) -> web.Response:
        return _ok({"violations": [asdict(v) for v in self.flood.violations],
                    "windows": self.flood.windows})

    async def _c_webhook(self, request: web.Request) -> web.Response:
        hook = self.feed.webhook
        return _ok({**self.feed.webhook_info(),
                    "deliveries": hook.deliveries if hook else 0,
                    "failures": hook.failures if hook else 0})


async def _read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                values.update(body)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.file.read(), value.filename, value.content_type)
                else:
                    values[key] = value
    return Params(values, uploads)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _api_json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False),
                        content_type="application/json")


def _ok(body: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False), content_type="application/json")


def _control_error(reason: str, status: int = 400) -> web.Response:
    return web.Response(status=status, text=json.dumps({"error": reason}), content_type="application/json")
