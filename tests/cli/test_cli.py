"""The real command (``python -m bot``, and the installed ``volunteer-loop`` script) in a subprocess:
configuration and database problems end it with exit status 2 and exactly one line on stderr,
never a traceback; ``db upgrade`` creates the schema once."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot import __version__
from storage.db import create_engine
from storage.models import Base
from tests.support.cli import config, one_line_error, run_cli, sqlite_config


# -- (a) no token ----------------------------------------------------------------------------------
def test_no_token(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path)
    line = one_line_error(run_cli("--config", str(path), "run", cwd=tmp_path))
    assert "VLOOP_TELEGRAM__TOKEN" in line
    assert not (tmp_path / "bot.sqlite3").exists(), "the database was touched before the token was checked"


def test_no_token_and_no_config_file_at_all(tmp_path: Path) -> None:
    assert "VLOOP_TELEGRAM__TOKEN" in one_line_error(run_cli("run", cwd=tmp_path))


def test_blank_token_from_the_environment(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path, '[telegram]\ntoken = "1:from-file"\n')
    result = run_cli("--config", str(path), "run", cwd=tmp_path, env={"VLOOP_TELEGRAM__TOKEN": " "})
    assert "VLOOP_TELEGRAM__TOKEN" in one_line_error(result)


# -- (b) bad configuration values ---------------------------------------------------------------------
def test_base_url_not_a_url(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path, '[telegram]\ntoken = "1:x"\nbase_url = "not a url"\n')
    line = one_line_error(run_cli("--config", str(path), "run", cwd=tmp_path))
    assert "telegram.base_url" in line and "not a url" in line


def test_base_url_not_a_url_from_the_environment(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path, env={"VLOOP_TELEGRAM__TOKEN": "1:x", "VLOOP_TELEGRAM__BASE_URL": "nope"})
    assert "telegram.base_url" in one_line_error(result)


@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"]])
def test_bad_configuration_file(tmp_path: Path, command: list[str]) -> None:
    assert "timezone" in one_line_error(
        run_cli("--config", str(config(tmp_path, 'timezone = "Atlantis/Capital"\n')), *command, cwd=tmp_path))
    assert "broken.toml" in one_line_error(
        run_cli("--config", str(config(tmp_path, "[database\n", "broken.toml")), *command, cwd=tmp_path))
    assert "colour" in one_line_error(
        run_cli("--config", str(config(tmp_path, "colour = 1\n", "extra.toml")), *command, cwd=tmp_path))


@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"]])
def test_missing_config_file(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "absent.toml"
    assert str(missing) in one_line_error(run_cli("--config", str(missing), *command, cwd=tmp_path))


# -- (c) the database cannot be reached --------------------------------------------------------------
@pytest.mark.parametrize("url", ["postgresql+asyncpg://postgres@127.0.0.1:1/nope",
                                 "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/nope"])
@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"]])
def test_unreachable_database(tmp_path: Path, url: str, command: list[str]) -> None:
    path = config(tmp_path, f'[telegram]\ntoken = "1:x"\n[database]\nurl = "{url}"\n')
    line = one_line_error(run_cli("--config", str(path), *command, cwd=tmp_path))
    assert "cannot reach the database" in line
    assert "127.0.0.1:1/nope" in line
    assert "hunter2" not in line


def test_sqlite_in_a_missing_directory(tmp_path: Path) -> None:
    path = config(tmp_path, f'[telegram]\ntoken = "1:x"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db"\n')
    assert "cannot reach the database" in one_line_error(run_cli("--config", str(path), "run", cwd=tmp_path))


@pytest.mark.parametrize("url", [
    "not a url",
    "mysql+aiomysql://u@127.0.0.1/db",
    # Mistakes an operator makes: the sync driver's spelling, a typo in the port, a port out of range.
    "sqlite:///bot.sqlite3",
    "postgresql://postgres@127.0.0.1:1/nope",
    "postgresql+asyncpg://postgres:hunter2@127.0.0.1:54x2/nope",
    "postgresql+asyncpg://postgres:hunter2@127.0.0.1:99999/nope",
])
@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"]])
def test_bad_database_url(tmp_path: Path, url: str, command: list[str]) -> None:
    path = config(tmp_path, f'[telegram]\ntoken = "1:x"\n[database]\nurl = "{url}"\n')
    line = one_line_error(run_cli("--config", str(path), *command, cwd=tmp_path))
    assert "database" in line
    assert "hunter2" not in line


def test_unparsable_database_url_hides_its_password(tmp_path: Path) -> None:
    url = "postgresql+asyncpg:/postgres:hunter2@db/x"  # one slash short: not a URL SQLAlchemy can read
    path = config(tmp_path, f'[telegram]\ntoken = "1:x"\n[database]\nurl = "{url}"\n')
    line = one_line_error(run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path))
    assert "hunter2" not in line


# -- (d) db upgrade -----------------------------------------------------------------------------------
def test_db_upgrade_creates_the_schema_once_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "bot.sqlite3"
    database.parent.mkdir()
    path = config(tmp_path, f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n')  # no token needed

    first = run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert "database is up to date" in first.stdout
    assert "Running upgrade" in first.stderr  # alembic's log: it did migrate
    tables, version, schema = sqlite_schema(database)
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables and version

    second = run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Traceback" not in second.stderr
    assert "database is up to date" in second.stdout
    assert "Running upgrade" not in second.stderr
    assert sqlite_schema(database) == (tables, version, schema)


def sqlite_schema(path: Path) -> tuple[set[str], str, list[tuple[str, str]]]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
        version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        connection.close()
    assert len(version) == 1, version
    return {name for name, _ in rows if not name.startswith("sqlite_")}, version[0][0], rows


async def test_db_upgrade_on_the_test_database(tmp_path: Path, database_url: str) -> None:
    """The same on every test backend (PostgreSQL too, with TEST_DATABASE_URL); the URL from the environment."""
    env = {"VLOOP_DATABASE__URL": database_url}
    for round_ in (1, 2):
        result = run_cli("db", "upgrade", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        assert ("Running upgrade" in result.stderr) == (round_ == 1), result.stderr
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            versions = (await connection.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert len(versions) == 1


# -- (e) webhook without a URL ------------------------------------------------------------------------
def test_webhook_without_url(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path, '[telegram]\ntoken = "1:x"\n')
    line = one_line_error(run_cli("--config", str(path), "run", "--webhook", cwd=tmp_path))
    assert "--url" in line and "webhook.url" in line
    assert not (tmp_path / "bot.sqlite3").exists(), "the database was touched before the webhook was checked"


def test_webhook_with_a_bad_url(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path, '[telegram]\ntoken = "1:x"\n')
    line = one_line_error(run_cli("--config", str(path), "run", "--webhook", "--url", "ftp://x/hook", cwd=tmp_path))
    assert "webhook.url" in line


# -- (f) --version, and the installed script ---------------------------------------------------------
def test_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"volunteer-loop {__version__}"
    assert result.stderr == ""


def test_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "volunteer-loop"
    assert script.is_file(), f"{script} is missing: install the project (pip install -e .)"
    result = run_cli("--version", cwd=tmp_path, executable=[str(script)])
    assert result.returncode == 0 and result.stdout.strip() == f"volunteer-loop {__version__}"
    assert "VLOOP_TELEGRAM__TOKEN" in one_line_error(run_cli("run", cwd=tmp_path, executable=[str(script)]))


def test_usage_errors_are_argparse_status_2(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "usage: volunteer-loop" in result.stderr
