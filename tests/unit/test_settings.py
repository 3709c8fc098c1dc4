"""Settings: a TOML file (by path or ``VLOOP_CONFIG``), ``VLOOP_*`` environment overrides that win
over it, the defaults, one-line :class:`ConfigError` for every bad value, and an example file that
documents every key."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.settings import (
    DEFAULT_CATEGORIES,
    ConfigError,
    Settings,
    load_settings,
    require_token,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ``VLOOP_*`` variable from the caller's shell, and a working directory without config.toml."""
    for name in list(os.environ):
        if name.upper().startswith("VLOOP_"):
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


FULL = """
admins = [11, 12]
coordinators_chat_id = -1001
timezone = "Europe/Berlin"
default_language = "en"
categories = ["repair", "delivery"]

[telegram]
token = "42:file-token"
base_url = "http://127.0.0.1:9/bot"
base_file_url = "http://127.0.0.1:9/file/bot"

[database]
url = "sqlite+aiosqlite:///from-file.sqlite3"
echo = true

[webhook]
listen = "0.0.0.0"
port = 9443
url = "https://bot.example.org/hook"
path = "hook"
secret_token = "s3cret"

[outbox]
private_per_second = 2.5
group_per_minute = 10
global_per_second = 20
poll_interval = 0.25
max_attempts = 3
batch_size = 7
"""


def check_full(settings: Settings) -> None:
    assert settings.admins == [11, 12]
    assert settings.coordinators_chat_id == -1001
    assert settings.timezone == "Europe/Berlin" and settings.tz.key == "Europe/Berlin"
    assert settings.default_language == "en"
    assert settings.categories == ["repair", "delivery"]
    assert require_token(settings) == "42:file-token"
    assert settings.telegram.base_url == "http://127.0.0.1:9/bot"
    assert settings.telegram.base_file_url == "http://127.0.0.1:9/file/bot"
    assert settings.database.url == "sqlite+aiosqlite:///from-file.sqlite3" and settings.database.echo is True
    hook = settings.webhook
    assert (hook.listen, hook.port, hook.url, hook.path) == ("0.0.0.0", 9443, "https://bot.example.org/hook", "hook")
    assert hook.secret_token is not None and hook.secret_token.get_secret_value() == "s3cret"
    out = settings.outbox
    assert (out.private_per_second, out.group_per_minute, out.global_per_second, out.poll_interval,
            out.max_attempts, out.batch_size) == (2.5, 10, 20, 0.25, 3, 7)


# -- where the file comes from ---------------------------------------------------------------------
def test_file_given_by_path(tmp_path: Path) -> None:
    check_full(load_settings(write(tmp_path / "given.toml", FULL)))
    check_full(load_settings(str(tmp_path / "given.toml")))


def test_file_given_by_vloop_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLOOP_CONFIG", str(write(tmp_path / "env.toml", FULL)))
    check_full(load_settings())


def test_explicit_path_wins_over_vloop_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLOOP_CONFIG", str(write(tmp_path / "env.toml", 'timezone = "Europe/Paris"\n')))
    settings = load_settings(write(tmp_path / "given.toml", 'timezone = "Asia/Tokyo"\n'))
    assert settings.timezone == "Asia/Tokyo"


def test_config_toml_in_the_working_directory_is_the_default(clean_environment: Path) -> None:
    write(clean_environment / "config.toml", 'default_language = "en"\n')
    assert load_settings().default_language == "en"


# -- the environment wins over the file --------------------------------------------------------------
def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "c.toml", FULL)
    monkeypatch.setenv("VLOOP_TELEGRAM__TOKEN", "77:env-token")
    monkeypatch.setenv("VLOOP_DATABASE__URL", "postgresql+asyncpg://u@db/env")
    monkeypatch.setenv("VLOOP_ADMINS", "[1,2]")
    monkeypatch.setenv("VLOOP_TIMEZONE", "UTC")
    monkeypatch.setenv("VLOOP_OUTBOX__MAX_ATTEMPTS", "9")
    settings = load_settings(config)
    assert require_token(settings) == "77:env-token"
    assert settings.database.url == "postgresql+asyncpg://u@db/env"
    assert settings.admins == [1, 2]
    assert settings.timezone == "UTC"
    assert settings.outbox.max_attempts == 9
    # A nested override replaces one key, not the file's whole table.
    assert settings.telegram.base_url == "http://127.0.0.1:9/bot"
    assert settings.database.echo is True
    assert settings.outbox.batch_size == 7
    assert settings.coordinators_chat_id == -1001


def test_environment_alone_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLOOP_TELEGRAM__TOKEN", "5:only-env")
    monkeypatch.setenv("VLOOP_COORDINATORS_CHAT_ID", "-100123")
    settings = load_settings()
    assert require_token(settings) == "5:only-env"
    assert settings.coordinators_chat_id == -100123


def test_explicit_overrides_win_over_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLOOP_DEFAULT_LANGUAGE", "en")
    assert load_settings(write(tmp_path / "c.toml", FULL), default_language="zh").default_language == "zh"


# -- defaults ----------------------------------------------------------------------------------------
def test_defaults_without_any_file() -> None:
    settings = load_settings()
    assert settings.database.url == "sqlite+aiosqlite:///volunteer-loop.sqlite3"
    assert settings.database.echo is False
    assert settings.default_language == "zh"
    assert settings.timezone == "Asia/Shanghai" and settings.tz.key == "Asia/Shanghai"
    assert settings.categories == ["delivery", "housekeeping", "consulting", "repair", "training", "mediation",
                                   "emergency", "other"]
    assert settings.categories == DEFAULT_CATEGORIES and settings.categories is not DEFAULT_CATEGORIES
    assert settings.admins == [] and settings.coordinators_chat_id is None
    assert settings.telegram.token is None
    assert settings.telegram.base_url == "https://api.telegram.org/bot"
    assert settings.telegram.base_file_url == "https://api.telegram.org/file/bot"
    assert settings.webhook.url is None


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path / "empty.toml", "")) == load_settings()


def test_missing_token_is_one_line_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        require_token(load_settings())
    assert "VLOOP_TELEGRAM__TOKEN" in str(caught.value) and "\n" not in str(caught.value)


def test_blank_token_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLOOP_TELEGRAM__TOKEN", "   ")
    with pytest.raises(ConfigError, match="VLOOP_TELEGRAM__TOKEN"):
        require_token(load_settings())


def test_secrets_do_not_show_in_repr(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path / "c.toml", FULL))
    assert "42:file-token" not in repr(settings) and "s3cret" not in repr(settings)


# -- bad values: one line, naming the key ------------------------------------------------------------
def config_error(text: str, tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path / "bad.toml", text))
    message = str(caught.value)
    assert message and "\n" not in message, message
    return message


@pytest.mark.parametrize(("text", "key"), [
    ('timezone = "Mars/Olympus_Mons"\n', "timezone"),
    ('[telegram]\nbase_url = "api.telegram.org/bot"\n', "telegram.base_url"),
    ('[telegram]\nbase_url = "ftp://example.org/bot"\n', "telegram.base_url"),
    ('[telegram]\nbase_file_url = "not a url"\n', "telegram.base_file_url"),
    ('[webhook]\nurl = "bot.example.org/hook"\n', "webhook.url"),
    ('default_language = "fr"\n', "default_language"),
    ('categories = ["no spaces allowed"]\n', "categories"),
    ("categories = []\n", "categories"),
    ('admins = "everyone"\n', "admins"),
    ('[webhook]\nport = "high"\n', "webhook.port"),
    ('[outbox]\nmax_attempts = "many"\n', "outbox.max_attempts"),
    ("[reminders]\nescalation_minutes = [30, 20, 60]\n", "reminders.escalation_minutes"),
    ("[reminders]\nurgent_escalation_minutes = [5, 10]\n", "reminders.urgent_escalation_minutes"),
    ('[reminders]\nquiet_hours = "22-7"\n', "reminders.quiet_hours"),
    ('[reminders]\ndigest_time = "24:00"\n', "reminders.digest_time"),
    ("[reminders]\nweekly_digest_weekday = 7\n", "reminders.weekly_digest_weekday"),
    ('[points]\nexpires_on = "02-29"\n', "points.expires_on"),
    ('[points]\nexpires_on = "31-03"\n', "points.expires_on"),
    ("[points]\nper_hour = -1\n", "points.per_hour"),
    ("[points]\ncode_minutes = 0\n", "points.code_minutes"),
])
def test_bad_values(text: str, key: str, tmp_path: Path) -> None:
    assert key in config_error(text, tmp_path)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert "colour" in config_error('colour = "blue"\n', tmp_path)


@pytest.mark.parametrize(("text", "key"), [
    ('[telegram]\ntokn = "42:typo"\n', "tokn"),
    ("[outbox]\nprivate_per_secnd = 3\n", "private_per_secnd"),
    ("[database]\nurll = 'sqlite+aiosqlite:///x.db'\n", "urll"),
    ("[webhook]\nsecret = 'x'\n", "secret"),
])
def test_unknown_key_in_a_table(text: str, key: str, tmp_path: Path) -> None:
    # A typo inside a table must not be dropped silently: the operator believes it is set.
    assert key in config_error(text, tmp_path)


def test_unknown_table(tmp_path: Path) -> None:
    assert "telegramm" in config_error('[telegramm]\ntoken = "1:x"\n', tmp_path)


def test_malformed_toml(tmp_path: Path) -> None:
    message = config_error('[telegram\ntoken = "1:x"\n', tmp_path)
    assert "bad.toml" in message


def test_malformed_toml_given_by_vloop_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLOOP_CONFIG", str(write(tmp_path / "broken.toml", "admins = [1,\n")))
    with pytest.raises(ConfigError, match=r"broken\.toml") as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_missing_explicit_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(missing)
    assert str(missing) in str(caught.value) and "\n" not in str(caught.value)


def test_bad_environment_value_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLOOP_TIMEZONE", "Nowhere/Land")
    with pytest.raises(ConfigError, match="timezone") as caught:
        load_settings(write(tmp_path / "c.toml", FULL))
    assert "\n" not in str(caught.value)
    monkeypatch.delenv("VLOOP_TIMEZONE")
    monkeypatch.setenv("VLOOP_ADMINS", "not json")
    with pytest.raises(ConfigError, match="admins") as caught:
        load_settings()
    assert "\n" not in str(caught.value)


# -- the example file ----------------------------------------------------------------------------------
def settings_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every leaf key of the settings, dotted (``telegram.token``), walking nested models."""
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(settings_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(prefix + name)
    return keys


_TABLE = re.compile(r"^\s*#?\s*\[\s*([A-Za-z0-9_.]+)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*#?\s*([A-Za-z0-9_]+)\s*=")


def documented_keys(text: str) -> set[str]:
    """Dotted keys the example sets or shows commented out (``# key = default``), under their table."""
    table, found = "", set()
    for line in text.splitlines():
        if match := _TABLE.match(line):
            table = match.group(1) + "."
        elif match := _KEY.match(line):
            found.add(table + match.group(1))
    return found


def test_settings_keys_walks_nested_models() -> None:
    keys = settings_keys(Settings)
    assert {"telegram.token", "database.url", "outbox.batch_size", "webhook.secret_token", "admins",
            "timezone", "categories"} <= set(keys)
    assert "telegram" not in keys and "outbox" not in keys


def test_documented_keys_reads_tables_and_commented_defaults() -> None:
    text = '# x\nadmins = []\n# timezone = "UTC"\n\n[telegram]\n# token = "1:x"\n#[outbox]\n#batch_size = 5\n'
    assert documented_keys(text) == {"admins", "timezone", "telegram.token", "outbox.batch_size"}


def test_example_config_parses_and_loads() -> None:
    tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    load_settings(EXAMPLE)


def test_example_config_documents_every_key() -> None:
    documented = documented_keys(EXAMPLE.read_text(encoding="utf-8"))
    missing = [key for key in settings_keys(Settings) if key not in documented]
    assert not missing, f"config.example.toml does not document: {', '.join(missing)}"


def test_example_config_shows_the_defaults() -> None:
    """Loading the example changes nothing but the (blank) token: the values it shows are the defaults."""
    example = load_settings(EXAMPLE).model_dump()
    defaults = Settings().model_dump()
    assert example["telegram"].pop("token").get_secret_value() == ""
    assert defaults["telegram"].pop("token") is None
    assert example == defaults


# -- [housekeeping] -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "key"), [
    # Telegram delivers an unconfirmed update again for 24 hours: its id must be kept at least a day.
    ("[housekeeping]\nprocessed_updates_days = 0\n", "housekeeping.processed_updates_days"),
    ("[housekeeping]\noutbox_days = 0\n", "housekeeping.outbox_days"),
    ("[housekeeping]\nbatch_size = 0\n", "housekeeping.batch_size"),
    ("[housekeeping]\ninterval_minutes = 0\n", "housekeeping.interval_minutes"),
])
def test_housekeeping_refuses_what_would_lose_a_guarantee(text: str, key: str, tmp_path: Path) -> None:
    assert key in config_error(text, tmp_path)


def test_housekeeping_keeps_update_ids_at_least_a_day(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path / "c.toml", "[ingest]\nparked_retention_days = 1\n"
                                                        "[housekeeping]\nprocessed_updates_days = 1\n"))
    assert settings.housekeeping.processed_updates_days == 1


def test_update_ids_are_kept_as_long_as_parked_updates(tmp_path: Path) -> None:
    """A replayed parked update is recognised as handled by its id: the id must outlive the row."""
    message = config_error("[ingest]\nparked_retention_days = 14\n[housekeeping]\nprocessed_updates_days = 13\n",
                           tmp_path)
    assert "housekeeping" in message and "ingest.parked_retention_days (14)" in message
