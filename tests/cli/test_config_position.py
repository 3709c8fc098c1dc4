"""``--config FILE`` before the command or after it, at any depth: the same file is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import build_parser
from tests.support.cli import run_cli, sqlite_config

COMMANDS = [["run"], ["demo"], ["db", "upgrade"], ["volunteers", "import", "x.csv"], ["volunteers", "export", "x.csv"],
            ["hours", "export", "--month", "2026-11", "x.csv"], ["report", "--month", "2026-11"],
            ["households", "import", "x.csv"], ["updates", "parked"], ["updates", "replay", "3"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_config_before_or_after_the_command(command: list[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["--config", "a.toml", *command]).config == "a.toml"
    assert parser.parse_args([*command, "--config", "b.toml"]).config == "b.toml"
    assert parser.parse_args(["--config", "a.toml", *command, "--config", "b.toml"]).config == "b.toml"
    assert parser.parse_args(command).config is None


def test_the_command_reads_the_file_named_after_it(tmp_path: Path) -> None:
    settings = sqlite_config(tmp_path)
    result = run_cli("db", "upgrade", "--config", str(settings), cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "bot.sqlite3").exists(), result.stderr
