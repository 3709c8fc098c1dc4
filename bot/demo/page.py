"""The demo's web page: an aiohttp app on 127.0.0.1 that serves the static page and passes what a
person does on it to the sandbox's control API over HTTP (the page never sees the bot's token:
files are fetched here, through getFile, as a Telegram client would)."""

from __future__ import annotations

import base64
import json
from importlib import resources
from typing import Any

import httpx
from aiohttp import web

from bot.demo.district import District
from bot.i18n import LANGUAGES, N_, I18n

STATIC = ("index.html", "app.js", "style.css")
CONTENT_TYPES = {"html": "text/html", "js": "text/javascript", "css": "text/css"}
# What people may do from the page (the sandbox knows more actions: faults, forged taps, ...).
PAGE_ACTIONS = frozenset({"start", "send_text", "tap", "press", "contact"})
MEDIA_KINDS = frozenset({"voice", "photo", "document"})
LONG_POLL_SECONDS = 20.0
UPLOAD_LIMIT = 20 * 1024 * 1024
# The page's own labels, translated like every text of the bot.
LABELS = {
    "title": N_("Volunteer Loop demo"),
    "pick": N_("Pick a person"),
    "resident": N_("Residents"),
    "volunteer": N_("Volunteers"),
    "team_leader": N_("Team leaders"),
    "building_leader": N_("Building leaders"),
    "coordinator": N_("Coordinators"),
    "admin": N_("Administrator"),
    "private": N_("Chat with the bot"),
    "type": N_("Type a message"),
    "send": N_("Send"),
    "start": N_("Start"),
    "voice": N_("Voice note"),
    "file": N_("Send a file"),
    "edited": N_("edited"),
    "protected": N_("Protected: cannot be forwarded or copied"),
    "empty": N_("Pick a person on the left, then one of their chats."),
    "language": N_("中文 (Chinese)"),  # the button names the other language: English in the Chinese page
}


def labels(i18n: I18n) -> dict[str, dict[str, str]]:
    """The labels in every language, so the page can switch without asking again."""
    return {language: {key: i18n.translator(language)(text) for key, text in LABELS.items()}
            for language in LANGUAGES}


class DemoPage:
    """The routes of the page; ``sandbox_url`` is the sandbox's base URL, ``token`` the bot's."""

    def __init__(self, district: District, sandbox_url: str, token: str, language: str) -> None:
        self.district = district
        self.sandbox_url = sandbox_url
        self.token = token
        self.language = language
        self.labels = labels(I18n())
        self.http = httpx.AsyncClient(base_url=sandbox_url, timeout=LONG_POLL_SECONDS + 10)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.add_routes([
            web.get("/", self._index),
            web.get("/static/{name}", self._static),
            web.get("/fonts/sans.otf", self._font),
            web.get("/api/district", self._district),
            web.get("/api/chats/{chat_id}", self._chat),
            web.get("/api/chats/{chat_id}/events", self._events),
            web.get("/api/callbacks/{query_id}", self._callback),
            web.post("/api/act", self._act),
            web.post("/api/upload", self._upload),
            web.get("/api/files/{file_id}", self._file),
        ])
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, _app: web.Application) -> None:
        await self.http.aclose()

    async def _index(self, request: web.Request) -> web.Response:
        return _static_file("index.html")

    async def _font(self, request: web.Request) -> web.StreamResponse:
        """Noto Sans SC, the charts' font (a dependency already): Chinese shows on a machine with no
        CJK font of its own, offline."""
        import pylopdf_fonts_zh_cn

        return web.FileResponse(pylopdf_fonts_zh_cn.sans_path(), headers={"Content-Type": "font/otf"})

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return _static_file(name)

    async def _district(self, request: web.Request) -> web.Response:
        return web.json_response({"language": self.language, "labels": self.labels, **self.district.to_json()})

    async def _chat(self, request: web.Request) -> web.Response:
        return await self._pass("GET", f"/sandbox/chats/{_int(request.match_info['chat_id'])}")

    async def _events(self, request: web.Request) -> web.Response:
        params = {"after": _int(request.query.get("after", "0")), "timeout": LONG_POLL_SECONDS}
        return await self._pass("GET", f"/sandbox/chats/{_int(request.match_info['chat_id'])}/events", params=params)

    async def _callback(self, request: web.Request) -> web.Response:
        query_id = request.match_info["query_id"]
        if not query_id.isdigit():
            raise web.HTTPBadRequest()
        return await self._pass("GET", f"/sandbox/callbacks/{query_id}", params={"timeout": 10})

    async def _act(self, request: web.Request) -> web.Response:
        action = await request.json()
        if not isinstance(action, dict) or action.get("type") not in PAGE_ACTIONS:
            raise web.HTTPBadRequest(text="unknown action")
        return await self._pass("POST", "/sandbox/actions", body={"actions": [action]})

    async def _upload(self, request: web.Request) -> web.Response:
        """A voice note, photo or document from the page: the person sends it in their chat."""
        form = await request.post()
        upload = form.get("file")
        kind = str(form.get("kind", "document"))
        if not isinstance(upload, web.FileField) or kind not in MEDIA_KINDS:
            raise web.HTTPBadRequest(text="a file and its kind")
        data = upload.file.read(UPLOAD_LIMIT + 1)
        if len(data) > UPLOAD_LIMIT:
            raise web.HTTPRequestEntityTooLarge(max_size=UPLOAD_LIMIT, actual_size=len(data))
        action: dict[str, Any] = {"type": "media", "kind": kind, "user_id": _int(str(form.get("user_id"))),
                                  "chat_id": _int(str(form.get("chat_id"))),
                                  "data_b64": base64.b64encode(data).decode()}
        if kind == "document":
            action["file_name"] = upload.filename or "file"
            action["mime_type"] = upload.content_type
        return await self._pass("POST", "/sandbox/actions", body={"actions": [action]})

    async def _file(self, request: web.Request) -> web.Response:
        """A file the bot sent, fetched as a client does: getFile, then the file URL."""
        found = await self.http.get(f"/bot{self.token}/getFile", params={"file_id": request.match_info["file_id"]})
        result = found.json().get("result") if found.status_code == 200 else None
        if not result:
            raise web.HTTPNotFound()
        content = await self.http.get(f"/file/bot{self.token}/{result['file_path']}")
        return web.Response(body=content.content, content_type=content.headers.get("content-type",
                                                                                   "application/octet-stream"))

    async def _pass(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    body: dict[str, Any] | None = None) -> web.Response:
        answer = await self.http.request(method, path, params=params, json=body)
        return web.Response(status=answer.status_code, text=answer.text, content_type="application/json")


def _static_file(name: str) -> web.Response:
    text = resources.files("bot.demo").joinpath("static", name).read_text(encoding="utf-8")
    return web.Response(text=text, content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]], charset="utf-8",
                        headers={"Cache-Control": "no-store"})


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": "not a number"})) from None
