"""``volunteer-loop demo`` in a subprocess, for the command-line and browser tests: started with a
clean ``VLOOP_*`` environment, its page's URL read from the one line it prints, stopped by SIGINT."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.cli import ROOT

STARTUP_TIMEOUT = 30.0  # a bound, not a measurement: the demo is ready in about two seconds
URL = re.compile(r"http://127\.0\.0\.1:\d+/")


@contextlib.contextmanager
def demo_running(directory: Path, *args: str) -> Iterator[tuple[str, str]]:
    """The running demo's page URL and the line that named it; the process ends with SIGINT."""
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("VLOOP_")}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    log = directory / "demo.log"  # a file, not a pipe nobody drains while the test runs
    with log.open("w", encoding="utf-8") as errors:
        process = subprocess.Popen([sys.executable, "-m", "bot", "demo", "--dir", str(directory), *args],
                                   cwd=directory, env=environment, stdout=subprocess.PIPE, stderr=errors,
                                   stdin=subprocess.DEVNULL, text=True)
    try:
        line = _first_line(process)
        found = URL.search(line)
        assert found, (line, log.read_text(encoding="utf-8")[-2000:])
        yield found.group(0), line
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
            if process.stdout is not None:
                process.stdout.close()
    assert process.returncode == 0, process.returncode


def _first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            if selector.select(left):
                return process.stdout.readline()
    raise TimeoutError(f"the demo printed nothing within {STARTUP_TIMEOUT}s")
