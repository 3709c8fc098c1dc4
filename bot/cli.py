"""The ``volunteer-loop`` command: ``run`` the bot, ``db upgrade`` the schema, ``volunteers import``
and ``volunteers export`` the roster (CSV or XLSX, see docs/roster.md).

A configuration or database problem ends the command with one line on stderr and exit status 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from storage.clock import Clock, utc_now
from storage.db import DatabaseUrlError, create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork

from . import __version__
from .services.roster import RosterFileError, check_path, export_roster, import_roster
from .settings import (
    ConfigError,
    Settings,
    WebhookSettings,
    describe,
    load_settings,
    require_token,
)


class CliError(Exception):
    """Ends the command with its message."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="volunteer-loop", description="Volunteer Loop Telegram bot")
    parser.add_argument("--version", action="version", version=f"volunteer-loop {__version__}")
    parser.add_argument("--config", help="TOML configuration file (default: $VLOOP_CONFIG or config.toml)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling unless --webhook)")
    run.add_argument("--webhook", action="store_true", help="receive updates by webhook instead of polling")
    run.add_argument("--listen", help="webhook: address to listen on (default from config, 127.0.0.1)")
    run.add_argument("--port", type=int, help="webhook: port to listen on (default from config, 8443)")
    run.add_argument("--url", help="webhook: public URL Telegram posts to")
    run.add_argument("--secret-token", help="webhook: secret Telegram sends back in every request")
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: migrate the schema to the newest version")
    volunteers = commands.add_parser("volunteers", help="the volunteer roster (CSV or XLSX, see docs/roster.md)")
    roster = volunteers.add_subparsers(dest="action", required=True)
    imports = roster.add_parser("import", help="import volunteers from FILE; prints a report, one line per bad row")
    imports.add_argument("file", metavar="FILE", help="a .csv or .xlsx roster")
    imports.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    exports = roster.add_parser("export", help="write the roster to FILE (.csv or .xlsx)")
    exports.add_argument("file", metavar="FILE", help="the .csv or .xlsx file to write")
    return parser


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a message
        return "(unparsable URL)"


async def migrate(settings: Settings) -> None:
    """Upgrade the schema, turning connection failures into one readable line."""
    try:
        engine = create_engine(settings.database.url, echo=settings.database.echo)
    except DatabaseUrlError as error:
        raise CliError(str(error)) from None
    try:
        await upgrade(engine)
    except (OSError, OverflowError, ValueError, TimeoutError, OperationalError, DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise CliError(f"cannot reach the database {_safe_url(settings.database.url)}: {reason}") from None
    finally:
        await engine.dispose()


async def roster_command(settings: Settings, args: argparse.Namespace) -> int:
    """``volunteers import|export FILE``: the report goes to stdout; exit status 1 if any row failed."""
    try:
        check_path(args.file, writing=args.action == "export")
    except RosterFileError as error:
        raise CliError(str(error)) from None
    logging.getLogger("alembic").setLevel(logging.WARNING)  # stdout is the report; no migration chatter
    await migrate(settings)
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    sessions = session_factory(engine)
    try:
        if args.action == "export":
            count = await export_roster(lambda: UnitOfWork(sessions), args.file)
            print(f"exported {count} volunteers to {args.file}")
            return 0
        report = await import_roster(lambda: UnitOfWork(sessions), args.file, skills=settings.categories,
                                     dry_run=args.dry_run)
    except RosterFileError as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(f"{args.file}: {error.strerror or error}") from None
    finally:
        await engine.dispose()
    print(report.summary())
    for row_error in report.errors:
        print(row_error)
    return 1 if report.failed else 0


def webhook_settings(settings: Settings, args: argparse.Namespace) -> WebhookSettings:
    values = settings.webhook.model_dump()
    for key in ("listen", "port", "url", "secret_token"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    try:
        hook = WebhookSettings(**values)
    except ValidationError as error:
        raise CliError(f"config error in {describe(error, 'webhook')}") from None
    if not hook.url:
        raise CliError("webhook mode needs a public URL: --url or webhook.url in the config")
    return hook


async def run_bot(settings: Settings, webhook: WebhookSettings | None, clock: Clock) -> None:
    from .app import build_application
    from .runner import serve

    await migrate(settings)
    await serve(build_application(settings, clock=clock), webhook=webhook)


def main(argv: list[str] | None = None, *, clock: Clock = utc_now) -> int:
    """Entry point of the console script (``clock``: the bot's time, injected by tests)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token in URLs
    try:
        settings = load_settings(args.config)
        if args.command == "db":
            asyncio.run(migrate(settings))
            print("database is up to date")
            return 0
        if args.command == "volunteers":
            return asyncio.run(roster_command(settings, args))
        require_token(settings)
        webhook = webhook_settings(settings, args) if args.webhook else None
        asyncio.run(run_bot(settings, webhook, clock))
        return 0
    except (ConfigError, CliError) as error:
        print(f"volunteer-loop: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
