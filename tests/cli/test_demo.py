"""``volunteer-loop demo`` as a subprocess, without a browser: it prints one translated line with the
page's URL, serves the page, and the district is in the sandbox (read through the page's pass-through
to the sandbox's control API) and in the database (the history the reports need)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import httpx

from bot.demo.district import ROLE_ORDER
from tests.support.demo import demo_running


def test_the_demo_prints_its_url_serves_the_page_and_holds_the_district(tmp_path: Path) -> None:
    with demo_running(tmp_path) as (url, line), httpx.Client(base_url=url, timeout=10) as page:
        assert line == f"志愿服务闭环演示：{url}（按 Ctrl+C 停止）\n"
        index = page.get("/")
        assert index.status_code == 200 and "/static/app.js" in index.text
        script = page.get("/static/app.js")
        assert script.status_code == 200 and "richText" in script.text
        assert page.get("/static/style.css").status_code == 200
        assert page.get("/static/../run.py").status_code == 404

        district = page.get("/api/district").json()
        assert district["language"] == "zh"
        assert district["labels"]["zh"]["resident"] == "居民" and district["labels"]["en"]["resident"] == "Residents"
        roles = Counter(person["role"] for person in district["people"])
        assert roles == {"resident": 4, "volunteer": 9, "team_leader": 3, "building_leader": 2, "coordinator": 2,
                         "admin": 1}
        assert set(roles) == set(ROLE_ORDER)
        titles = {group["title"] for group in district["groups"]}
        assert titles == {"社区志愿服务中心", "维修队", "助老队", "医疗应急队"}
        names = {person["name"] for person in district["people"]}
        assert {"王阿姨", "李师傅"} <= names

        repair = next(group["id"] for group in district["groups"] if group["title"] == "维修队")
        chat = page.get(f"/api/chats/{repair}").json()  # the sandbox's own view of the group
        members = {int(user_id) for user_id, status in chat["members"].items() if status in ("member", "creator")}
        in_repair = {person["id"] for person in district["people"] if repair in person["chats"]}
        assert in_repair <= members and len(in_repair) == 4
        assert chat["bot_status"] == "member"
        assert page.post("/api/act", json={"type": "inject", "kind": "message", "payload": {}}).status_code == 400

    with sqlite3.connect(tmp_path / "demo.sqlite3") as database:
        closed = database.execute("SELECT count(*) FROM orders WHERE status = 'closed'").fetchone()[0]
        rated = database.execute("SELECT count(*) FROM ratings").fetchone()[0]
        served = database.execute("SELECT count(DISTINCT user_id) FROM hours_entries").fetchone()[0]
    assert closed == 8 and rated == 8 and served >= 6


def test_the_demo_in_english(tmp_path: Path) -> None:
    with demo_running(tmp_path, "--language", "en") as (url, line), httpx.Client(base_url=url, timeout=10) as page:
        assert line == f"Volunteer Loop demo: {url} (Ctrl+C to stop)\n"
        district = page.get("/api/district").json()
        assert district["language"] == "en"
        assert {"Auntie Wang", "Master Li"} <= {person["name"] for person in district["people"]}
