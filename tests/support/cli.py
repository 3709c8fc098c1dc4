"""Running the real command (``python -m bot``) in a subprocess, as the command-line tests do:
a clean ``VLOOP_*`` environment, a config file in the test's directory, and the one-line error
every refusal must be."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # a bound, not a measurement: every case here ends in about a second


def cli_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``VLOOP_*`` (plus ``env``), the project on the path."""
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("VLOOP_")}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    environment.update(env or {})
    return environment


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            executable: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command with a clean ``VLOOP_*`` environment (plus ``env``) in ``cwd``."""
    command = (executable or [sys.executable, "-m", "bot"]) + list(args)
    return subprocess.run(command, cwd=cwd, env=cli_environment(env), capture_output=True, text=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL, check=False)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """Exit status 2 and exactly one non-empty line on stderr, which is returned."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), result.stderr
    assert lines[0].startswith("volunteer-loop: "), lines[0]
    return lines[0]


def config(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sqlite_config(tmp_path: Path, extra: str = "") -> Path:
    return config(tmp_path, f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"\n{extra}')
