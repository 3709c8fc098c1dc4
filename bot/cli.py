"""The ``volunteer-loop`` command."""

from __future__ import annotations

import argparse

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="volunteer-loop", description="Volunteer Loop Telegram bot")
    parser.add_argument("--version", action="version", version=f"volunteer-loop {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    build_parser().parse_args(argv)
    return 0
