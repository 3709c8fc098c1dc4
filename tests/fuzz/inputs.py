"""What the fuzzer's people do, as plain values Hypothesis generates and a failure report prints.

An :class:`Input` names an actor of the cast (see :mod:`tests.fuzz.world`), a chat (their private
chat, the team's group or the coordinators' group) and one thing to do there. Ids that only exist
at run time (orders, teams, people) are written as placeholders in callback data and commands
(``{order}``, ``{team}``, ``{user}``, ``{code}``) and filled in from the database when played, by
``pick`` (an index into what exists), so one generated input can hit another person's order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from bot.views import callbacks as cb

ACTORS = ("admin", "coordinator", "resident", "neighbour", "vera", "victor", "mallory", "newcomer")
CHATS = ("private", "team", "centre")
MEDIA = ("sticker", "photo", "voice", "document", "video", "audio", "animation", "video_note")
#: Every kind of input, in the order the report lists them.
KINDS = ("text", "command", "advance", "tap", "forge", "media", "contact", "location", "forward", "edit",
         "anonymous", "channel_post", "malformed", "replay", "start")

#: How often each kind is drawn, relative to the others (1 unless named): forged taps most of all.
WEIGHTS = {"forge": 4, "text": 2, "command": 2, "tap": 2, "media": 2, "contact": 2}
HUGE = ("2147483648", "9223372036854775807", "9223372036854775808", "999999999999999999999999", "-1", "0",
        "00000000000000000000001", "1e9", "0x10", "１２", "NaN")
TRICKY_TEXT = (
    "<b>bold", "</b>", "<script>alert(1)</script>", "a < b & c > d", "&amp; &lt; &bogus; &#0; &#x110000;",
    "<a href=\"tg://user?id=1\">me</a>", "<3", "\u202eRTL override \u202c", "مرحبا بالعالم", "שלום",
    "👩‍👩‍👧‍👦🏳️‍🌈🇨🇳", "\u200b\u200d\ufeff", "   ", "\n\n", "line1\nline2\tTab", "%s %d {0} {name}",
    "'; DROP TABLE orders; --", "13812345678", "+86 138 1234 5678", "一三八一二三四五六七八",
    "阳光社区 3栋2单元 502室", "明天上午10点", "2", "0", "-3", "99999", "1.5", "Today", "今天",
)
PLAUSIBLE = ("Li Hua", "阳光社区", "3栋2单元", "502室 ring twice", "Saturday 9:00", "2", "13800000000",
             "水管漏水 the pipe leaks", "skip", "明天上午")
#: Commands with the arguments worth trying on each (plus ANY_ARGS on every one).
COMMANDS: dict[str, tuple[str, ...]] = {
    "start": ("team_{code}",), "help": (), "request": (), "my": (), "language": (), "join": (), "profile": (),
    "orders": ("{huge}",), "businesses": (), "roster": (), "onduty": (), "offduty": (),
    "dispatch": ("{order} {code}", "#{order} {code}", "{huge} {code}", "{order} nosuchteam", "{order}",
                 "{order} {code} extra", "-{order} {code}"),
    "coordinator": ("add {user}", "remove {user}", "add {huge}", "remove {huge}", "add", "promote {user}"),
    "team": ("add repair 维修队 repair", "add x<b> y z", "rename {code} <b>新名</b>", "archive {code}",
             "categories {code} repair", "leader {code} {user}", "leader {code} {huge}", "{code}", "list",
             "link {code}", "qr {code}"),
    "link": ("{code}", "nosuch", "{huge}"),
    "building": ("add b1 阳光社区 1栋", "leader b1 {user}", "leader b1 {huge}", "list", "qr b1"),
    "neighbour": (), "quiet": ("22:00 07:00", "25:99 x", "off", "{huge}"),
    "find": ("repair", "repair 阳光社区", "<i>", "{huge}"),
    "unknown": (), "start@other_bot": (), "mydata": (), "forget": (),
}
ANY_ARGS = ("", "{huge}", "<b>", "a b c d e f", "{order}")
#: Raw updates a broken or hostile network may deliver (placeholders filled in when played).
MALFORMED: tuple[tuple[str, Any], ...] = (
    ("message", {"message_id": "not a number", "date": 0, "chat": {"id": 1, "type": "private"}}),
    ("message", None),
    ("message", "a string"),
    ("message", []),
    ("message", {"message_id": 1, "date": 0}),
    ("message", {"message_id": 1, "date": 0, "chat": {"id": "{user}", "type": "private"},
                 "from": {"id": "{user}", "is_bot": False, "first_name": "X"}, "text": "/start",
                 "entities": [{"type": "bot_command", "offset": 5, "length": 100}]}),
    ("message", {"message_id": 1, "date": 0, "chat": {"id": 2 ** 70, "type": "private", "first_name": "X"},
                 "from": {"id": 2 ** 70, "is_bot": False, "first_name": "X"}, "text": "hello"}),
    ("message", {"message_id": 1, "date": 0, "chat": {"id": "{user}", "type": "private", "first_name": "X"},
                 "text": "from nobody"}),
    ("message", {"message_id": 1, "date": 0, "chat": {"id": "{user}", "type": "private", "first_name": "X"},
                 "from": {"id": "{user}", "is_bot": False, "first_name": "X"}}),
    ("callback_query", {"id": "1", "chat_instance": "1", "data": "acc:1"}),
    ("callback_query", {"id": "1", "from": {"id": "{user}", "is_bot": False, "first_name": "X"},
                        "chat_instance": "1", "data": "acc:{order}"}),
    ("callback_query", {"id": 5, "from": {"id": "{user}"}, "chat_instance": "1", "data": ["acc"]}),
    ("my_chat_member", {"chat": {"id": -5, "type": "group", "title": "T"}, "date": 0}),
    ("chat_member", {"chat": {"id": "{team_chat}", "type": "group", "title": "T"}, "date": 0,
                     "from": {"id": "{user}", "is_bot": False, "first_name": "X"},
                     "old_chat_member": {"status": "member"}, "new_chat_member": {"status": "left"}}),
    ("poll", {"id": "p"}),
    ("no_such_kind", {"anything": True}),
    ("message", {"message_id": 1, "date": -1e300, "chat": {"id": "{user}", "type": "private", "first_name": "X"},
                 "from": {"id": "{user}", "is_bot": False, "first_name": "X"}, "text": "x" * 70000}),
)
START_PAYLOADS = ("team_{code}", "team_", "team_nosuch", "b_{huge}", "building_x", "<b>", "x" * 64, "{order}")


@dataclass(frozen=True)
class Input:
    """One thing one person does; ``text`` and ``pick`` mean what ``kind`` needs them to mean."""

    actor: str
    kind: str
    chat: str = "private"
    text: str = ""
    pick: int = 0
    flag: bool = False

    def __str__(self) -> str:
        shown = self.text if len(self.text) <= 60 else f"{self.text[:40]}…({len(self.text)} chars)"
        extra = " flag" if self.flag else ""
        return f"{self.actor}@{self.chat} {self.kind} {shown!r} pick={self.pick}{extra}"


picks = st.integers(min_value=0, max_value=50)


def texts() -> st.SearchStrategy[str]:
    """Random, tricky and oversized texts (4096 and beyond), never empty (Telegram sends none)."""
    return st.one_of(
        st.text(min_size=1, max_size=40),
        st.sampled_from(TRICKY_TEXT),
        st.sampled_from(PLAUSIBLE),
        st.lists(st.sampled_from(TRICKY_TEXT), min_size=2, max_size=5).map(" ".join),
        st.integers(min_value=4090, max_value=4200).map(lambda n: ("长<&>" * n)[:n]),
    )


def callback_data() -> st.SearchStrategy[str]:
    """Forged callback data: known actions with other people's ids, huge numbers, extra and missing
    parts, unknown actions, over 64 bytes, or anything at all."""
    action = st.sampled_from(sorted(cb.ACTIONS))
    argument = st.one_of(st.sampled_from(("{order}", "{order}", "{team}", "{user}", "{code}", "1", "5", "today",
                                          "repair", "zh_Hans", "")), st.sampled_from(HUGE))
    return st.one_of(
        st.builds(lambda a, args: ":".join([a, *args]), action, st.lists(argument, max_size=4)),
        st.builds(lambda a, n: f"{a}:{'9' * n}", action, st.integers(min_value=20, max_value=120)),
        st.sampled_from(("", ":", "::::", "acc", "acc:", "acc:{order}:5", "cancel:{order}:5", "rate:{order}",
                         "rate:{order}:9", "rate:{order}:-1", "hours:{order}:1e308", "lang:xx", "send:{order}:{order}",
                         "nosuch:{order}", "ACC:{order}", "fgt:{question}:1", "fgt:{question}:0", "fgt:{order}:1",
                         "fgt:{question}:2", "fgt:{question}")),
        st.text(max_size=80),
    )


def inputs(kinds: tuple[str, ...] = KINDS) -> st.SearchStrategy[Input]:
    """One input of any of ``kinds``."""
    actor, chat = st.sampled_from(ACTORS), st.sampled_from(CHATS)
    by_kind: dict[str, st.SearchStrategy[Input]] = {
        "text": st.builds(Input, actor, st.just("text"), chat, texts(), picks, st.booleans()),
        "command": st.builds(
            lambda a, c, command, huge, p: Input(a, "command", c, command.replace("{huge}", huge), p),
            actor, chat, st.sampled_from(sorted(COMMANDS)).flatmap(
                lambda name: st.sampled_from(COMMANDS[name] + ANY_ARGS).map(lambda args: f"/{name} {args}".strip())),
            st.sampled_from(HUGE), picks),
        "advance": st.builds(Input, actor, st.just("advance"), st.just("private"), st.just(""), picks,
                             st.booleans()),
        "tap": st.builds(Input, actor, st.just("tap"), chat, st.just(""), picks),
        "forge": st.builds(Input, actor, st.just("forge"), chat, callback_data(), picks),
        "media": st.builds(Input, actor, st.just("media"), chat, st.sampled_from(MEDIA), picks, st.booleans()),
        "contact": st.builds(Input, actor, st.just("contact"), chat,
                             st.sampled_from(("own", "other", "13812345678", "+1 (555) 010-9999", "abc")), picks),
        "location": st.builds(Input, actor, st.just("location"), chat),
        "forward": st.builds(Input, actor, st.just("forward"), chat, texts(), picks, st.booleans()),
        "edit": st.builds(Input, actor, st.just("edit"), chat, texts(), picks, st.booleans()),
        "anonymous": st.builds(Input, st.just("anonymous"), st.just("anonymous"), st.sampled_from(("team", "centre")),
                               st.one_of(st.sampled_from(sorted(COMMANDS)).map(lambda c: f"/{c}"),
                                         st.sampled_from(("/link repair", "/orders", "/dispatch {order} {code}",
                                                          "/coordinator add {user}", "/team"))), picks),
        "channel_post": st.builds(Input, st.just("channel"), st.just("channel_post"), st.just("channel"),
                                  st.one_of(texts(), st.sampled_from(("/start", "/orders", "/link repair"))),
                                  picks, st.booleans()),
        "malformed": st.builds(Input, st.just("network"), st.just("malformed"), st.just("raw"),
                               st.integers(0, len(MALFORMED) - 1).map(
                                   lambda i: f"#{i} {MALFORMED[i][0]}: {json.dumps(MALFORMED[i][1])[:60]}"), picks),
        "replay": st.builds(Input, st.just("network"), st.just("replay"), st.just("raw"), st.just(""), picks),
        "start": st.builds(Input, actor, st.just("start"), st.just("private"), st.sampled_from(START_PAYLOADS),
                           picks),
    }
    weighted = [kind for kind in kinds for _ in range(WEIGHTS.get(kind, 1))]
    return st.sampled_from(weighted).flatmap(by_kind.__getitem__)


def walks() -> st.SearchStrategy[list[Input]]:
    """A few sensible answers in a row by one person, so examples reach the later dialog steps."""
    return st.builds(lambda actor, chosen: [Input(actor, "advance", "private", "", p) for p in chosen],
                     st.sampled_from(ACTORS), st.lists(picks, min_size=2, max_size=5))


def examples(kinds: tuple[str, ...] = KINDS, max_size: int = 12) -> st.SearchStrategy[list[Input]]:
    """One example: a short sequence of inputs by several people (with walks through dialogs when
    ``advance`` is among ``kinds``), played in order."""
    step = inputs(kinds).map(lambda inp: [inp])
    if "advance" in kinds:
        single = step
        step = st.sampled_from((False,) * 7 + (True,)).flatmap(lambda walk: walks() if walk else single)  # 1 in 8
    return st.lists(step, min_size=1, max_size=max(1, max_size // 2)).map(
        lambda parts: [inp for part in parts for inp in part][:max_size])


def tour() -> list[list[Input]]:
    """Explicit examples played before the generated ones, so every run — the short one in CI
    above all — meets each kind of input and each known-nasty value at least once: every action
    with a huge number, every message kind, and every malformed update (last, as one of them may
    leave a bot deaf)."""
    forged = [Input(actor, "forge", "private", f"{action}:99999999999999999999", 0)
              for actor, action in zip(("mallory", "vera", "coordinator", "resident", "admin") * 5,
                                       sorted(cb.ACTIONS), strict=False)]
    forged += [Input("mallory", "forge", "team", data, 0) for data in (
        "acc:{order}", "acc:{order}:5", "cancel:{order}:5", "rate:{order}:9", "acc:" + "9" * 80, "rate:2147483648:1",
        "way:9223372036854775808", "nosuch:1", "")]
    # /forget's question, answered by everyone but the person asked (and /mydata asked by several).
    forged += [Input("resident", "command", "private", "/forget"), Input("vera", "command", "private", "/mydata")]
    forged += [Input(actor, "forge", "private", data, 0) for actor in ("mallory", "vera", "coordinator", "admin")
               for data in ("fgt:{question}:1", "fgt:{question}:0")]
    forged += [Input("coordinator", "forge", "centre", "fgt:{question}:1", 0),
               Input("resident", "command", "private", "/mydata"), Input("mallory", "command", "team", "/mydata"),
               Input("resident", "forge", "private", "fgt:{question}:1", 0)]  # the resident's own ✅: allowed
    kinds = [Input("newcomer", "media", chat, kind, 0, True) for kind in MEDIA for chat in ("private", "team")]
    kinds += [Input("resident", "contact", "private", who, 1) for who in ("own", "other", "+1 (555) 010-9999")]
    kinds += [Input("vera", "location", "team"), Input("vera", "forward", "private", "<b>call me</b>", 2, True),
              Input("victor", "text", "team", "&bogus; <3", 0, True),
              Input("victor", "edit", "team", "edited", 0, True),
              Input("anonymous", "anonymous", "team", "/orders", 0),
              Input("anonymous", "anonymous", "centre", "/coordinator add {user}", 0),
              Input("channel", "channel_post", "channel", "/start", 0),
              Input("channel", "channel_post", "channel", "<b>news", 0, True),
              Input("network", "replay", "raw", "", 0), Input("network", "replay", "raw", "", 3)]
    texts = [Input("resident", "command", "private", "/request"), *[Input("resident", "advance", "private", "", 0)] * 3,
             Input("resident", "text", "private", ("长<&>" * 1100)[:4200]),
             Input("coordinator", "command", "private", "/dispatch 99999999999999999999 repair"),
             Input("admin", "command", "private", "/coordinator add 99999999999999999999"),
             Input("coordinator", "command", "team", "/team rename repair <b>新名")]
    malformed = [Input("network", "malformed", "raw", f"#{i} {kind}: {json.dumps(payload)[:60]}")
                 for i, (kind, payload) in enumerate(MALFORMED)]
    return [forged, kinds, texts, malformed]
