"""Start-up stays short: the command imports what it uses when it uses it (speed itself is measured
by bench/startup.py). Each check runs in a fresh interpreter and reads its ``sys.modules``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.support.cli import run_cli, sqlite_config

# Made or read only by some commands or messages: spreadsheets (openpyxl), QR codes (segno; PIL and
# qrcode are not ours, so they must not creep in), migrations (alembic and its mako templates), the
# webhook server (tornado), and test and benchmark tools.
NEVER_AT_START = ("openpyxl", "PIL", "qrcode", "segno", "alembic", "mako", "sandbox", "hypothesis", "pytest",
                  "rich", "click", "pygments")  # httpx's command line, installed here by the test tools
# What only running the bot needs: `import bot.cli` (help, version, the other commands' parsing)
# does without them.
ONLY_TO_RUN = ("telegram", "tornado", "sqlalchemy", "pydantic", "babel", "phonenumbers", "apscheduler")


def _modules_after(code: str, cwd: Path) -> set[str]:
    """The top-level packages loaded once ``code`` ran in a fresh interpreter."""
    result = run_cli("-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))", cwd=cwd,
                     executable=[sys.executable])
    assert result.returncode == 0, result.stderr
    return {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


def test_importing_the_command_loads_nothing_heavy(tmp_path: Path) -> None:
    loaded = _modules_after("import bot.cli", tmp_path)
    assert "bot" in loaded
    assert loaded.isdisjoint(NEVER_AT_START + ONLY_TO_RUN), sorted(loaded & {*NEVER_AT_START, *ONLY_TO_RUN})


def test_a_restart_on_an_up_to_date_database_loads_only_what_running_needs(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path, '[telegram]\ntoken = "1:startup-test"\n')
    assert run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path).returncode == 0
    # What `volunteer-loop run` does before it asks for updates: the schema check and the application.
    loaded = _modules_after(
        "import asyncio\n"
        "from bot.cli import migrate, skip_unused_imports\n"
        "from bot.settings import load_settings\n"
        f"settings = load_settings({str(path)!r})\n"
        "asyncio.run(migrate(settings))\n"
        "skip_unused_imports()\n"
        "from bot.adapters.app import build_application\n"
        "from bot.adapters.runner import serve\n"
        "build_application(settings)\n", tmp_path)
    assert {"telegram", "sqlalchemy", "bot", "storage"} <= loaded
    assert loaded.isdisjoint(NEVER_AT_START), sorted(loaded & set(NEVER_AT_START))
