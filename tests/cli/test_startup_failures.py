"""Every way Telegram's side can keep ``volunteer-loop run`` from starting is one line in the
operator's language and exit status 2 — never a traceback, never the token. Telegram unreachable is
tried again with a backoff, since the network may come back (docs/startup.md).

The sandbox plays Telegram in this process; the bot is the real command in a subprocess."""

from __future__ import annotations

import asyncio
import html
import socket
import subprocess
from pathlib import Path

import pytest

from bot.cli import PORT_IN_USE, START_NAMES, TOKEN_REFUSED, UNREACHABLE, WEBHOOK_REFUSED
from bot.i18n import I18n
from sandbox import SandboxServer
from tests.support.cli import config, one_line_error, run_cli

TOKEN = "123456789:SANDBOX-token"
WRONG_TOKEN = "123456789:not-the-right-token-at-all"
SECRET = "startup-secret_1"


def _config(tmp_path: Path, base_url: str, *, token: str = TOKEN, language: str = "zh", attempts: int = 1,
            backoff: float = 0.1) -> Path:
    """A config with the sandbox (or a closed port) as Telegram, the language, and the start-up tries."""
    return config(tmp_path, f'default_language = "{language}"\n[database]\n'
                            f'url = "sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"\n[telegram]\ntoken = "{token}"\n'
                            f'base_url = "{base_url}/bot"\nbase_file_url = "{base_url}/file/bot"\n'
                            f"start_attempts = {attempts}\nstart_backoff_seconds = {backoff}\n")


def _line(language: str, message: str, **params: object) -> str:
    return "volunteer-loop: " + html.unescape(I18n(language).gettext(language, message, **START_NAMES, **params))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _no_token(result: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in (TOKEN, WRONG_TOKEN, TOKEN.split(":")[1], WRONG_TOKEN.split(":")[1], *secrets):
        assert secret not in result.stdout + result.stderr


async def _run(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_cli, "--config", str(config), "run", *args, cwd=tmp_path)


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_telegram_unreachable_is_one_line(tmp_path: Path, language: str) -> None:
    port = _closed_port()
    result = await _run(tmp_path, _config(tmp_path, f"http://127.0.0.1:{port}", language=language))
    line = one_line_error(result)
    assert line == _line(language, UNREACHABLE, host=f"127.0.0.1:{port}", reason="httpx.ConnectError: All connection "
                         "attempts failed", attempts=1)
    _no_token(result)


async def test_telegram_unreachable_is_tried_again_with_a_growing_pause(tmp_path: Path) -> None:
    result = await _run(tmp_path, _config(tmp_path, f"http://127.0.0.1:{_closed_port()}", attempts=3, backoff=0.2))
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    retries = [line for line in lines if "trying again" in line]
    assert len(retries) == 2 and "in 0 s (attempt 2 of 3)" in retries[0] and "(attempt 3 of 3)" in retries[1], lines
    assert lines[-1].startswith("volunteer-loop: ") and "3" in lines[-1] and len(lines) == 3, lines
    _no_token(result)


async def test_a_refused_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    async with SandboxServer(token=TOKEN) as server:
        result = await _run(tmp_path, _config(tmp_path, server.base_url, token=WRONG_TOKEN))
    assert one_line_error(result) == _line("zh", TOKEN_REFUSED)
    _no_token(result)


async def test_a_webhook_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with SandboxServer(token=TOKEN) as server:
            result = await _run(tmp_path, _config(tmp_path, server.base_url, language="en"), "--webhook",
                                "--port", str(port), "--url", f"http://127.0.0.1:{port}/hook", "--secret-token", SECRET)
    line = one_line_error(result)
    assert line.startswith(_line("en", PORT_IN_USE, listen="127.0.0.1", port=port, reason="X").split("X")[0]), line
    _no_token(result, SECRET)


async def test_a_refused_webhook_url_is_one_line(tmp_path: Path) -> None:
    async with SandboxServer(token=TOKEN) as server:
        port = _closed_port()
        result = await _run(tmp_path, _config(tmp_path, server.base_url), "--webhook", "--port", str(port),
                            "--url", "https://no-such-host.invalid/hook", "--secret-token", SECRET)
    line = one_line_error(result)
    prefix, suffix = _line("zh", WEBHOOK_REFUSED, reason="|").split("|")
    assert line.startswith(prefix) and line.endswith(suffix) and "failed to resolve host" in line.lower(), line
    _no_token(result, SECRET)


async def test_a_bad_secret_token_is_one_line(tmp_path: Path) -> None:
    async with SandboxServer(token=TOKEN) as server:
        result = await _run(tmp_path, _config(tmp_path, server.base_url), "--webhook", "--port", str(_closed_port()),
                            "--url", "http://127.0.0.1:9/hook", "--secret-token", "not allowed!")
    line = one_line_error(result)
    assert "secret" in line
    _no_token(result, "not allowed!")
