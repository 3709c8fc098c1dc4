"""The command line for receiving updates, as a subprocess: webhook mode refuses to start without a
secret token or with a path that is not its URL's (one line, exit status 2, nothing touched), and
``updates parked|replay|drop`` answer in one line too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import one_line_error, run_cli, sqlite_config

# A Bot API nobody serves: a bot that started anyway would fail with a traceback, not one line.
UNSERVED = ('[telegram]\ntoken = "1:x"\nbase_url = "http://127.0.0.1:9/bot"\n'
            'base_file_url = "http://127.0.0.1:9/file/bot"\n')


def test_webhook_without_a_secret_token(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path, UNSERVED)
    line = one_line_error(run_cli("--config", str(path), "run", "--webhook", "--url", "https://bot.example.org/hook",
                                  cwd=tmp_path))
    assert "secret token" in line and "--secret-token" in line and "webhook.secret_token" in line
    assert not (tmp_path / "bot.sqlite3").exists(), "the database was touched before the webhook was checked"


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "semi;colon", "引号"])
def test_webhook_secret_token_telegram_would_refuse(tmp_path: Path, secret: str) -> None:
    path = sqlite_config(tmp_path, UNSERVED)
    line = one_line_error(run_cli("--config", str(path), "run", "--webhook", "--url", "https://bot.example.org/hook",
                                  "--secret-token", secret, cwd=tmp_path))
    assert "webhook.secret_token" in line and "A-Z a-z 0-9 _ -" in line and secret not in line


def test_webhook_path_that_is_not_the_urls(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path, UNSERVED + '[webhook]\npath = "telegram"\n')
    line = one_line_error(run_cli("--config", str(path), "run", "--webhook", "--url", "https://host/some/path",
                                  "--secret-token", "s3cret", cwd=tmp_path))
    assert "'/telegram'" in line and "'/some/path'" in line and "remove webhook.path" in line


def test_updates_on_an_empty_database(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path)
    listed = run_cli("--config", str(path), "updates", "parked", cwd=tmp_path)
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "0 parked update(s)\n", "")
    for action in ("replay", "drop"):
        line = one_line_error(run_cli("--config", str(path), "updates", action, "7", cwd=tmp_path))
        assert line == "volunteer-loop: no parked update #7 (see `volunteer-loop updates parked`)"


@pytest.mark.parametrize("argument", ["abc", "-1", "0", "99999999999999999999", "1.5"])
def test_updates_with_something_that_is_not_a_number(tmp_path: Path, argument: str) -> None:
    path = sqlite_config(tmp_path)
    line = one_line_error(run_cli("--config", str(path), "updates", "drop", "--", argument, cwd=tmp_path))
    assert "is not a parked update's number" in line
