"""The demo's web page: pick a person of the district and chat as them, their private chat with the
bot and their groups, rendered like Telegram.

A small aiohttp app beside the sandbox, in the same process: it reads the sandbox's world (chats as a
person sees them, :mod:`sandbox.views`) and acts through the sandbox's own actions, the ones the
tests' simulated people use. The bot's HTML is rebuilt here from Telegram's closed set of tags
(:func:`safe_html`), so nothing the bot or a person wrote can become markup or script on the page.
"""

from __future__ import annotations

import base64
import html
import time
from html.parser import HTMLParser
from importlib import resources
from typing import Any

from aiohttp import web

from bot.demo.district import District
from sandbox.server import SandboxServer
from sandbox.views import button_view
from sandbox.world import Chat, StoredMessage

# Telegram's HTML style: tag → what the page shows (https://core.telegram.org/bots/api#html-style)
_TAGS = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s", "strike": "s", "del": "s",
         "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-spoiler": "span", "a": "a"}
_LINKS = ("http://", "https://", "tg://")
# What a person may do from the page: the sandbox's own actions, nothing that forges or injects.
ACTIONS = frozenset({"start", "send_text", "contact", "tap", "press", "media"})
STATIC = ("index.html", "app.js", "style.css")
CONTENT_TYPES = {"html": "text/html", "js": "text/javascript", "css": "text/css"}


class _Rebuild(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = _TAGS.get(tag)
        if tag == "span" and ("class", "tg-spoiler") in attrs:
            shown = "span"
        if shown is None:
            return
        self.open.append(shown)
        if shown == "span":
            self.out.append('<span class="spoiler">')
        elif shown == "a":
            href = dict(attrs).get("href") or ""
            safe = href.startswith(_LINKS)
            self.out.append(f'<a href="{html.escape(href)}" target="_blank" rel="noopener noreferrer">' if safe
                            else "<a>")
        else:
            self.out.append(f"<{shown}>")

    def handle_endtag(self, tag: str) -> None:
        shown = "span" if tag == "span" else _TAGS.get(tag)
        if shown is not None and shown in self.open:
            while self.open:  # close what is still open inside it, then it
                inner = self.open.pop()
                self.out.append(f"</{inner}>")
                if inner == shown:
                    break

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def safe_html(text: str | None, markup: str | None) -> str:
    """The message as HTML the page may show: the bot's markup rebuilt from the allowed tags (links
    only to http, https and tg), every text escaped; plain ``text`` escaped when there is no markup."""
    if markup is None:
        return html.escape(text or "", quote=False)
    parser = _Rebuild()
    parser.feed(markup)
    return parser.result()


def _files(message: StoredMessage) -> list[dict[str, Any]]:
    """Photos, documents, voice notes and the like, each with the page's address for its bytes."""
    found = []
    for kind in ("photo", "document", "voice", "audio", "video", "animation", "sticker"):
        value = message.extra.get(kind)
        if not value:
            continue
        item = value[-1] if isinstance(value, list) else value  # a photo comes in sizes: the largest
        found.append({"kind": kind, "url": f"/api/files/{item['file_id']}",
                      "name": item.get("file_name") or kind, "mime": item.get("mime_type") or ""})
    return found


def _reply_keyboard(chat: Chat) -> list[list[dict[str, Any]]] | None:
    if not chat.reply_keyboard or "keyboard" not in chat.reply_keyboard:
        return None
    return [[{"text": b if isinstance(b, str) else b["text"],
              "contact": isinstance(b, dict) and bool(b.get("request_contact"))} for b in row]
            for row in chat.reply_keyboard["keyboard"]]


def chat_for_page(chat: Chat, names: dict[int, str]) -> dict[str, Any]:
    """A chat as its page shows it: messages in order, each with safe HTML, buttons, files, marks."""
    messages = []
    for message in sorted(chat.messages.values(), key=lambda m: m.message_id):
        if message.deleted or message.kind == "service":
            continue
        messages.append({
            "id": message.message_id, "from_bot": message.from_bot,
            "sender": "" if message.from_bot else names.get(message.sender_id, ""),
            "sender_id": message.sender_id, "kind": message.kind,
            "html": safe_html(message.text, message.html), "buttons": button_view(message.reply_markup),
            "files": _files(message), "contact": message.extra.get("contact", {}).get("phone_number"),
            "protected": message.protect_content, "edited": message.edit_date is not None,
            "date": message.date,
        })
    return {"id": chat.id, "type": chat.type, "title": chat.title, "messages": messages,
            "keyboard": _reply_keyboard(chat), "last_seq": chat.events[-1].seq if chat.events else 0}


class DemoPage:
    """The page's HTTP side: static files, the district, chats, actions, callback answers, files."""

    def __init__(self, server: SandboxServer, district: District, language: str) -> None:
        self.server, self.district, self.language = server, district, language
        self.app = web.Application()
        self.app.add_routes([
            web.get("/", self._index),
            web.get("/static/{name}", self._static),
            web.get("/fonts/sans.otf", self._font),
            web.get("/api/district", self._district),
            web.get("/api/chats/{chat_id}", self._chat),
            web.get("/api/chats/{chat_id}/changes", self._changes),
            web.post("/api/act", self._act),
            web.get("/api/callbacks/{query_id}", self._answer),
            web.get("/api/files/{file_id}", self._file),
        ])
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> str:
        # The page's long polls would hold a graceful shutdown for their whole wait: cut them short.
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # aiohttp's way to a port 0's pick
        self.url = f"http://127.0.0.1:{bound}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _names(self) -> dict[int, str]:
        return {p.id: p.name for p in self.district.people}

    def _member(self, request: web.Request, chat_id: int) -> bool:
        """A person sees only their own private chat and the groups they are in."""
        viewer = int(request.query.get("as", "0"))
        return chat_id == viewer or viewer in self.district.members.get(chat_id, [])

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return await self._serve("index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return await self._serve(name)

    async def _font(self, request: web.Request) -> web.StreamResponse:
        """Noto Sans SC, the font the charts use (a dependency already): Chinese shows on a machine
        with no CJK font of its own, offline."""
        import pylopdf_fonts_zh_cn

        return web.FileResponse(pylopdf_fonts_zh_cn.sans_path(), headers={"Content-Type": "font/otf"})

    async def _serve(self, name: str) -> web.Response:
        body = resources.files("bot.demo").joinpath("static", name).read_bytes()
        return web.Response(body=body, content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]], charset="utf-8",
                            headers={"Cache-Control": "no-store", "Content-Security-Policy":
                                     "default-src 'self'; img-src 'self' blob:; media-src 'self'; font-src 'self'"})

    async def _district(self, request: web.Request) -> web.Response:
        return web.json_response({"language": self.language, **self.district.as_json()})

    def _chat_of(self, request: web.Request) -> Chat:
        try:
            chat_id = int(request.match_info["chat_id"])
            chat = self.server.world.chat(chat_id)
        except (ValueError, LookupError, Exception) as error:
            raise web.HTTPNotFound() from error
        if not self._member(request, chat_id):
            raise web.HTTPForbidden()
        return chat

    async def _chat(self, request: web.Request) -> web.Response:
        return web.json_response(chat_for_page(self._chat_of(request), self._names()))

    async def _changes(self, request: web.Request) -> web.Response:
        """Waits (up to ``timeout`` s) until the chat changed after ``after``; the page then reads it again."""
        chat = self._chat_of(request)
        after = int(request.query.get("after", "0"))
        deadline = time.monotonic() + min(float(request.query.get("timeout", "0")), 25.0)
        while (chat.events[-1].seq if chat.events else 0) <= after:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self.server.world.wait_for_change(remaining)
        return web.json_response({"last_seq": chat.events[-1].seq if chat.events else 0})

    async def _act(self, request: web.Request) -> web.Response:
        action = await request.json()
        if not isinstance(action, dict) or action.get("type") not in ACTIONS:
            raise web.HTTPBadRequest(text="not an action a person takes")
        user = int(action.get("user_id", 0))
        if user not in self._names():
            raise web.HTTPBadRequest(text="not one of the district's people")
        chat_id = int(action.get("chat_id") or user)
        if chat_id != user and user not in self.district.members.get(chat_id, []):
            raise web.HTTPForbidden()
        if action["type"] == "media":
            base64.b64decode(action.get("data_b64", ""), validate=True)
        try:
            result = self.server.act(action)
        except Exception as error:  # noqa: BLE001 - the sandbox refuses (no such button...): say so, in one line
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        return web.json_response({"ok": True, **{k: v for k, v in result.items() if k in ("callback_query_id",)}})

    async def _answer(self, request: web.Request) -> web.Response:
        query_id = request.match_info["query_id"]
        deadline = time.monotonic() + min(float(request.query.get("timeout", "0")), 10.0)
        world = self.server.world
        while query_id not in world.callback_answers and time.monotonic() < deadline:
            await world.wait_for_change(max(0.0, deadline - time.monotonic()))
        answer = world.callback_answers.get(query_id) or {}
        return web.json_response({"answered": bool(answer), "text": answer.get("text") or "",
                                  "alert": bool(answer.get("show_alert"))})

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.server.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

