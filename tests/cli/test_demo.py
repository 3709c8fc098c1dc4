"""``volunteer-loop demo`` without a browser: it starts offline, prints one line with its URL, serves
the page, has the district and its history, lets a person act and the bot answer, and keeps each
person to their own chats. (tests/browser plays a whole loop through the page in Chromium.)"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.demo.district import HISTORY, TEAMS
from tests.support.cli import demo_running


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response) if response.headers.get_content_type() == "application/json" else response.read()


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _status(call: Any, *args: Any) -> int:
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(*args)
    refused.value.close()
    return refused.value.code


def test_the_demo_starts_offline_with_its_district_and_answers_a_person(tmp_path: Path) -> None:
    with demo_running(tmp_path, "--language", "en") as url:
        page = _get(url)
        assert b"/static/app.js" in page and b"<script" in page
        assert b"function renderMessage" in _get(url + "static/app.js")
        district = _get(url + "api/district")
        roles = [p["role"] for p in district["people"]]
        assert district["language"] == "en" and len(district["groups"]) == 1 + len(TEAMS)
        assert roles.count("volunteer") + roles.count("team_leader") == 12 and roles.count("building_leader") == 2
        assert roles.count("coordinator") == 2 and roles.count("resident") >= 3 and roles.count("admin") == 1

        resident = next(p for p in district["people"] if p["role"] == "resident")
        _post(url + "api/act", {"type": "start", "user_id": resident["id"]})
        deadline = time.monotonic() + 15
        while True:
            chat = _get(url + f"api/chats/{resident['id']}?as={resident['id']}")
            if any(m["from_bot"] for m in chat["messages"]):
                break
            assert time.monotonic() < deadline, chat
            time.sleep(0.1)
        welcome = next(m for m in chat["messages"] if m["from_bot"])
        assert "volunteer service" in welcome["html"] and chat["keyboard"], chat

        other = next(p for p in district["people"] if p["role"] == "volunteer")
        assert _status(_get, url + f"api/chats/{resident['id']}?as={other['id']}") == 403
        assert _status(_post, url + "api/act", {"type": "inject", "user_id": resident["id"]}) == 400
        assert _status(_post, url + "api/act", {"type": "send_text", "user_id": 1, "text": "hi"}) == 400
        assert _status(_get, url + "static/../../pyproject.toml") == 404

        with sqlite3.connect(tmp_path / "demo.sqlite3") as database:  # the history the reports start from
            rated = database.execute("SELECT count(*) FROM orders o JOIN ratings r ON r.order_id = o.id "
                                     "WHERE o.status = 'closed'").fetchone()[0]
            summaries = database.execute("SELECT count(*) FROM measure_counts").fetchone()[0]
        assert rated == len(HISTORY) and summaries > 0
