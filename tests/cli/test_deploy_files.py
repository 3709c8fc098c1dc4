"""The container, as far as this machine can check it (no Docker here): hadolint finds nothing in
the Dockerfile, the image's rules hold, and its install steps work — the build stage's wheel made
from exactly what it copies, installed the runtime stage's way into a fresh virtual environment,
which then runs the command, migrates a database and has the demo's page and the migrations."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from bot import __version__
from tests.support.cli import ROOT, TIMEOUT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                            timeout=TIMEOUT * 2, stdin=subprocess.DEVNULL, check=False,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    return result.stdout + result.stderr


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    _run(hadolint, ROOT / "Dockerfile", cwd=ROOT)


def test_the_image_runs_as_a_user_with_a_health_check_and_pinned_installs() -> None:
    stages = re.split(r"^FROM ", DOCKERFILE, flags=re.M)[1:]
    assert len(stages) == 2 and all(re.match(r"python:3\.\d+\.\d+-slim", s) for s in stages), "pinned slim base"
    runtime = stages[1]
    assert re.search(r"^USER (?!0\b|root\b)\S+", runtime, re.M), "the runtime stage drops root"
    assert runtime.index("USER ") < runtime.index("ENTRYPOINT"), "USER before the command"
    assert "HEALTHCHECK" in runtime and "/healthz" in runtime
    assert f"volunteer-loop=={__version__}" in runtime and "-c constraints.txt" in stages[0]
    assert all("--no-cache-dir" in line for line in DOCKERFILE.splitlines() if "pip " in line)


def test_the_install_steps_work_in_a_fresh_environment(tmp_path: Path) -> None:
    source, wheels, venv = tmp_path / "src", tmp_path / "wheels", tmp_path / "venv"
    source.mkdir()
    for line in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M):  # what the build stage copies
        for name in line.split():
            origin = ROOT / name
            (shutil.copytree if origin.is_dir() else shutil.copy)(origin, source / name)
    # The build stage's RUN (dependencies come from this environment instead of the network: --no-deps).
    _run(sys.executable, "-m", "pip", "wheel", "--no-cache-dir", "--no-deps", "--wheel-dir", wheels,
         "-c", ROOT / "constraints.txt", ".", cwd=source)
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    site = Path(sysconfig.get_path("purelib"))
    fresh_site = next((venv / "lib").glob("python3*/site-packages"))
    (fresh_site / "dependencies.pth").write_text(f"{site}\n")  # the dependencies this suite runs on
    # The runtime stage's RUN.
    _run(venv / "bin" / "pip", "install", "--no-cache-dir", "--no-index", "--find-links", wheels, "--no-deps",
         "--ignore-installed",  # the suite's own editable install is on the path too
         f"volunteer-loop=={__version__}", cwd=tmp_path)

    assert _run(venv / "bin" / "volunteer-loop", "--version", cwd=tmp_path).strip() == f"volunteer-loop {__version__}"
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"\n')
    assert "database is up to date" in _run(venv / "bin" / "volunteer-loop", "db", "upgrade", cwd=tmp_path)
    where = "import bot, pathlib; print(pathlib.Path(bot.__file__).parent)"
    installed = Path(_run(venv / "bin" / "python", "-c", where, cwd=tmp_path).strip())
    assert installed.is_relative_to(venv) and (installed / "demo" / "static" / "app.js").is_file()
    assert (installed / "locales" / "zh_Hans" / "LC_MESSAGES" / "messages.po").is_file()


def test_the_systemd_unit_runs_the_command_unprivileged_and_restarts_what_may_pass() -> None:
    import configparser

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    unit.read(ROOT / "deploy" / "volunteer-loop.service")
    service = unit["Service"]
    assert service["User"] == "volunteer-loop" and service["NoNewPrivileges"] == "yes"
    assert service["ExecStart"].split()[1:] == ["--config", "/etc/volunteer-loop/config.toml", "run"]
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"  # docs/startup.md
    assert service["ProtectSystem"] == "strict" and service["ReadWritePaths"] == "/var/lib/volunteer-loop"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_compose_runs_the_image_in_webhook_mode_beside_postgresql() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    assert "image: postgres:" in compose and "pg_isready" in compose and "condition: service_healthy" in compose
    assert "postgresql+asyncpg://" in compose and "VLOOP_WEBHOOK__SECRET_TOKEN" in compose and "build: ." in compose
    assert 'CMD ["run", "--webhook"]' in DOCKERFILE
