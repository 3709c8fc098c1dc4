"""The sandbox as a library: a pinned public surface, documented calls, a standalone server."""

from __future__ import annotations

import asyncio
import inspect
import sys

import httpx

import sandbox


def test_public_names_are_pinned() -> None:
    assert sorted(sandbox.__all__) == [
        "ApiError", "Batch", "CallRecord", "CallbackAnswer", "ChatView", "ControlError", "Fault",
        "FloodLimits", "MessageView", "SandboxClient", "SandboxError", "SandboxServer", "SimGroup",
        "SimUser", "Tap", "gather_answers",
    ]


def test_every_public_call_has_a_docstring() -> None:
    missing = []
    for name in sandbox.__all__:
        obj = getattr(sandbox, name)
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for attr, member in vars(obj).items():
            if attr.startswith("_"):
                continue
            func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
            if callable(func) and not (func.__doc__ or "").strip():
                missing.append(f"{name}.{attr}")
    assert missing == []


async def test_standalone_server_prints_its_base_url() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sandbox", "--port", "0", "--token", "42:standalone",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as http:
            me = (await http.get(f"{base_url}/bot42:standalone/getMe")).json()
            assert me["result"]["id"] == 42
            refused = await http.get(f"{base_url}/bot43:other/getMe")
            assert refused.status_code == 401
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 20) == 0
