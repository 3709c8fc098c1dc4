"""How updates reach the bot: long polling with Telegram's offset semantics, or webhook pushes.

Polling: ``getUpdates(offset)`` confirms (and forgets) every update below ``offset``; anything
returned but not confirmed is returned again. A second concurrent ``getUpdates`` ends the first
with 409 Conflict. Webhook: each update is POSTed with ``X-Telegram-Bot-Api-Secret-Token``; a
non-2xx answer or a connection error is retried; updates of one sender keep their order while
different senders are delivered concurrently (up to ``max_connections``). Never both at once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from sandbox.clock import Clock
from sandbox.errors import ApiError, bad_request

DEFAULT_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "poll",
    "poll_answer", "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    "purchased_paid_media",
)
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(eq=False)
class QueuedUpdate:
    """One update waiting for the bot."""

    update_id: int
    kind: str
    payload: Any  # a dict, unless a test injected a malformed update
    created_at: float
    order_key: int
    replay: bool = False
    delivered: bool = False

    def body(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: float | None = None
    last_error_message: str | None = None
    deliveries: int = 0
    failures: int = 0


def _resolvable(host: str) -> bool:
    """What the sandbox can reach, as Telegram resolves a webhook's host: an address or localhost
    (this machine's network is closed, so no name is looked up)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return True


@dataclass
class UpdateFeed:
    """The bot's update queue; see the module docstring for the rules it keeps."""

    clock: Clock
    webhook_retry_delay: float = 0.5
    queue: list[QueuedUpdate] = field(default_factory=list)
    history: dict[int, QueuedUpdate] = field(default_factory=dict)
    allowed_updates: tuple[str, ...] = DEFAULT_UPDATE_TYPES
    webhook: Webhook | None = None
    duplicate_next: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(700_000_001))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _poll_generation: int = 0
    _worker: asyncio.Task[None] | None = None
    _in_flight: set[int] = field(default_factory=set)
    _http: httpx.AsyncClient | None = None
    _settled: asyncio.Event = field(default_factory=asyncio.Event)

    # -- producing ------------------------------------------------------------------------------
    def push(self, kind: str, payload: Any, order_key: int, *, force: bool = False) -> int | None:
        """Queue an update of ``kind``; returns its id, or None when the bot did not ask for it.

        ``force`` queues it even so: Telegram may still deliver updates of a kind the bot stopped
        asking for, when they were created before its ``allowed_updates`` changed."""
        if kind not in self.allowed_updates and not force:
            return None
        entry = QueuedUpdate(next(self._ids), kind, payload, self.clock(), order_key)
        self.history[entry.update_id] = entry
        self.queue.append(entry)
        if self.duplicate_next > 0:
            self.duplicate_next -= 1
            self.queue.append(QueuedUpdate(entry.update_id, kind, payload, entry.created_at, order_key))
        self._wake()
        return entry.update_id

    def redeliver(self, update_id: int) -> None:
        """Deliver an already delivered update once more, with the same ``update_id``."""
        old = self.history.get(update_id)
        if old is None:
            raise bad_request("update not found")
        self.queue.append(QueuedUpdate(old.update_id, old.kind, old.payload, old.created_at,
                                       old.order_key, replay=True))
        self._wake()

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    # -- acknowledgement ------------------------------------------------------------------------
    def acknowledged(self, update_id: int) -> bool:
        """True once the bot confirmed every delivery of ``update_id`` (a ``getUpdates`` offset past
        it, or a 2xx webhook answer); a bot acknowledges an update only after handling it."""
        if update_id not in self.history:
            raise bad_request("update not found")
        return not any(entry.update_id == update_id for entry in self.queue)

    async def wait_acknowledged(self, update_id: int, timeout: float) -> bool:
        """Wait up to ``timeout`` real seconds for :meth:`acknowledged`; returns it."""
        deadline = time.monotonic() + timeout
        while not self.acknowledged(update_id):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            settled = self._settled
            try:
                await asyncio.wait_for(settled.wait(), remaining)
            except TimeoutError:
                return self.acknowledged(update_id)
        return True

    def _settle(self) -> None:
        self._settled.set()
        self._settled = asyncio.Event()

    # -- polling --------------------------------------------------------------------------------
    async def get_updates(self, offset: int | None, limit: int, timeout: float,
                          allowed_updates: list[str] | None) -> list[dict[str, Any]]:
        """Long-poll for updates as ``getUpdates`` does."""
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        if allowed_updates is not None:
            self.set_allowed(allowed_updates)
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an earlier poller notices it was superseded
        if offset is not None:
            self._confirm(offset)
        limit = max(1, min(100, limit or 100))
        deadline = time.monotonic() + max(0.0, timeout)  # the long poll waits real seconds
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")
            if self.queue:
                batch = self.queue[:limit]
                for entry in batch:
                    entry.delivered = True
                return [entry.body() for entry in batch]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            arrived = self._arrived
            try:
                await asyncio.wait_for(arrived.wait(), remaining)
            except TimeoutError:
                return []

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = -offset
            self.queue = self.queue[-keep:] if keep else []
            self._settle()
            return
        self.queue = [u for u in self.queue
                      if not (u.update_id < offset and (u.delivered or not u.replay))]
        self._settle()

    def set_allowed(self, allowed_updates: list[str]) -> None:
        self.allowed_updates = tuple(allowed_updates) if allowed_updates else DEFAULT_UPDATE_TYPES

    # -- webhook --------------------------------------------------------------------------------
    def set_webhook(self, url: str, secret_token: str | None, max_connections: int,
                    allowed_updates: list[str] | None, drop_pending: bool) -> None:
        """Switch to webhook delivery (an empty ``url`` switches back to polling)."""
        if drop_pending:
            self.queue.clear()
        if allowed_updates is not None:
            self.set_allowed(allowed_updates)
        if not url:
            self.webhook = None
            return
        if not re.match(r"^https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not _resolvable(urlsplit(url).hostname or ""):
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if secret_token is not None and not _SECRET.match(secret_token):
            raise bad_request("secret token contains unallowed characters")
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        for entry in self.queue:  # fetched by polling but never confirmed: push them too
            entry.delivered = False
        self.webhook = Webhook(url, secret_token, max_connections)
        self._poll_generation += 1  # a running getUpdates is ended by the webhook
        self._wake()

    def delete_webhook(self, drop_pending: bool) -> None:
        self.webhook = None
        if drop_pending:
            self.queue.clear()
        self._wake()

    def webhook_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.queue),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.max_connections
            info["allowed_updates"] = list(self.allowed_updates)
            if self.webhook.last_error_date:
                info["last_error_date"] = int(self.webhook.last_error_date)
                info["last_error_message"] = self.webhook.last_error_message
        return info

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0),
                                       limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))
        self._worker = asyncio.create_task(self._push_loop(), name="sandbox-webhook")

    async def close(self) -> None:
        if self._worker:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        if self._http:
            await self._http.aclose()

    async def _push_loop(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                arrived = self._arrived
                hook = self.webhook
                if hook is not None:
                    for entry in self.queue:
                        if len(self._in_flight) >= hook.max_connections:
                            break
                        if entry.order_key in self._in_flight or entry.delivered:
                            continue
                        entry.delivered = True
                        self._in_flight.add(entry.order_key)
                        task = asyncio.create_task(self._push(hook, entry))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                await arrived.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _push(self, hook: Webhook, entry: QueuedUpdate) -> None:
        assert self._http is not None
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        ok = False
        try:
            response = await self._http.post(hook.url, json=entry.body(), headers=headers)
            ok = 200 <= response.status_code < 300
            error = f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
        except httpx.HTTPError as exc:
            error = f"Connection failed: {type(exc).__name__}"
        hook.deliveries += 1
        if ok:
            self.queue = [queued for queued in self.queue if queued is not entry]
            self._settle()
        else:
            hook.failures += 1
            hook.last_error_date = self.clock()
            hook.last_error_message = error
            await asyncio.sleep(self.webhook_retry_delay)
            entry.delivered = False
        self._in_flight.discard(entry.order_key)
        self._wake()
