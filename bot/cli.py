"""The ``volunteer-loop`` command: ``run`` the bot, ``db upgrade`` the schema and ``db prune`` old rows,
``volunteers import`` and ``volunteers export`` the roster (CSV or XLSX, see docs/roster.md),
``hours export --month YYYY-MM FILE`` the month's service records for the national registry
(docs/hours.md), ``report --month YYYY-MM`` the rates and ``households import FILE`` the households
they divide by (docs/measures.md), and
``updates parked|replay|drop`` for updates the bot could not handle (see docs/reliability.md).

A configuration or database problem ends the command with one line on stderr and exit status 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import html
import logging
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot import __version__
from bot.domain.arguments import database_id
from bot.i18n import N_

if TYPE_CHECKING:  # the rest is imported where a command uses it: `import bot.cli` stays cheap
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.settings import Settings, WebhookSettings
    from storage.clock import Clock


REPORT_FORMATS = ("text", "json", "xlsx", "png")


class CliError(Exception):
    """Ends the command with its message."""


CONFIG_HELP = "TOML configuration file (default: $VLOOP_CONFIG or config.toml)"


def _config_after_any_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``--config FILE`` after a command too (``volunteer-loop run --config x.toml``), at every level.
    Given nowhere there, it is left out (SUPPRESS) and the one before the command, if any, stands."""
    for command in commands.choices.values():
        command.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)
        for action in command._subparsers._group_actions if command._subparsers else ():
            if isinstance(action, argparse._SubParsersAction):
                _config_after_any_command(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="volunteer-loop", description="Volunteer Loop Telegram bot")
    parser.add_argument("--version", action="version", version=f"volunteer-loop {__version__}")
    parser.add_argument("--config", help=CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling unless --webhook)")
    run.add_argument("--webhook", action="store_true", help="receive updates by webhook instead of polling")
    run.add_argument("--listen", help="webhook: address to listen on (default from config, 127.0.0.1)")
    run.add_argument("--port", type=int, help="webhook: port to listen on (default from config, 8443)")
    run.add_argument("--url", help="webhook: public URL Telegram posts to")
    run.add_argument("--secret-token", help="webhook: secret Telegram sends back in every request "
                     "(required in webhook mode; 1-256 of A-Z a-z 0-9 _ -)")
    demo = commands.add_parser("demo", help="the offline demo: the sandbox, the bot and a district, chatted with "
                               "in a web page (docs/demo.md)")
    demo.add_argument("--dir", help="keep the demo's database in DIR (default: a temporary folder)")
    demo.add_argument("--port", type=int, default=0, help="the page's port on 127.0.0.1 (default: a free one)")
    demo.add_argument("--language", choices=["zh_Hans", "en"], default="zh_Hans",
                      help="the district's names and the page's language")
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "prune", "rebuild-measures", "backup", "copy"],
                    help="upgrade: migrate the schema to the newest version; prune: delete old update ids and "
                         "finished outbox rows now, as the running bot does every [housekeeping] interval_minutes; "
                         "rebuild-measures: recompute the reports' summaries from the raw rows in the configured "
                         "time zone (docs/measures.md); backup FILE: an online copy of the SQLite database, safe "
                         "while the bot runs (docs/operations.md); copy SRC DST: every row of database URL SRC "
                         "into the empty database URL DST (SQLite to PostgreSQL)")
    db.add_argument("file", nargs="?", metavar="FILE", help="backup: the new file to write; copy: SRC")
    db.add_argument("target", nargs="?", metavar="DST", help="copy: the database URL to copy into")
    volunteers = commands.add_parser("volunteers", help="the volunteer roster (CSV or XLSX, see docs/roster.md)")
    roster = volunteers.add_subparsers(dest="action", required=True)
    imports = roster.add_parser("import", help="import volunteers from FILE; prints a report, one line per bad row")
    imports.add_argument("file", metavar="FILE", help="a .csv or .xlsx roster")
    imports.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    exports = roster.add_parser("export", help="write the roster to FILE (.csv or .xlsx)")
    exports.add_argument("file", metavar="FILE", help="the .csv or .xlsx file to write")
    hours = commands.add_parser("hours", help="service hours (docs/hours.md)")
    hours_actions = hours.add_subparsers(dest="action", required=True)
    hours_export = hours_actions.add_parser("export", help="write a month's service records for the national "
                                                           "volunteer registry to FILE (.csv or .xlsx)")
    hours_export.add_argument("--month", required=True, metavar="YYYY-MM", help="the month, in the centre's time zone")
    hours_export.add_argument("file", metavar="FILE", help="the .csv or .xlsx file to write")
    report = commands.add_parser("report", help="the rates of a month (docs/measures.md)")
    report.add_argument("--month", required=True, metavar="YYYY-MM", help="the month, in the centre's time zone")
    where = report.add_mutually_exclusive_group()
    where.add_argument("--community", metavar="NAME", help="one community (default: the whole district)")
    where.add_argument("--team", metavar="CODE", help="one team")
    where.add_argument("--building", metavar="CODE", help="one building")
    report.add_argument("--format", choices=REPORT_FORMATS, default="text", help="text (default), json, xlsx or png")
    report.add_argument("--output", metavar="FILE", help="write to FILE (needed for xlsx; default: stdout)")
    households = commands.add_parser("households", help="households per building or community (docs/measures.md)")
    households_actions = households.add_subparsers(dest="action", required=True)
    households_import = households_actions.add_parser("import", help="set households from a CSV with columns "
                                                                     "building, community, households")
    households_import.add_argument("file", metavar="FILE", help="the .csv file")
    updates = commands.add_parser("updates", help="inbound updates the bot could not handle (docs/reliability.md)")
    parked = updates.add_subparsers(dest="action", required=True)
    parked.add_parser("parked", help="list parked updates: ids, kinds and errors, never their contents")
    replay = parked.add_parser("replay", help="have the running bot handle parked update ID again "
                                              "(an update already handled is skipped)")
    replay.add_argument("id", metavar="ID", help="the parked update's number (#ID in the list)")
    drop = parked.add_parser("drop", help="delete parked update ID without handling it")
    drop.add_argument("id", metavar="ID", help="the parked update's number (#ID in the list)")
    _config_after_any_command(commands)
    return parser


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for a message
        return "(unparsable URL)"


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The configured database, migrated, for one command; failing to reach it is one readable line."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from storage.db import create_engine

    logging.getLogger("alembic").setLevel(logging.WARNING)  # stdout is the answer; no migration chatter
    await migrate(settings)
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    try:
        yield engine
    except (OSError, TimeoutError, OperationalError, DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise CliError(f"cannot reach the database {_safe_url(settings.database.url)}: {reason}") from None
    finally:
        await engine.dispose()


async def migrate(settings: Settings) -> None:
    """Upgrade the schema (if it is behind), turning connection failures into one readable line."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from storage.db import DatabaseUrlError, create_engine
    from storage.migrate import upgrade_if_behind

    try:
        engine = create_engine(settings.database.url, echo=settings.database.echo)
    except DatabaseUrlError as error:
        raise CliError(str(error)) from None
    try:
        await upgrade_if_behind(engine)
    except (OSError, OverflowError, ValueError, TimeoutError, OperationalError, DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise CliError(f"cannot reach the database {_safe_url(settings.database.url)}: {reason}") from None
    finally:
        await engine.dispose()


async def roster_command(settings: Settings, args: argparse.Namespace) -> int:
    """``volunteers import|export FILE``: the report goes to stdout; exit status 1 if any row failed."""
    from bot.services.roster import RosterFileError, check_path, export_roster, import_roster
    from storage.db import create_engine, session_factory
    from storage.uow import UnitOfWork

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


async def hours_command(settings: Settings, args: argparse.Namespace) -> int:
    """``hours export --month YYYY-MM FILE``: the total check goes to stdout."""
    from pathlib import Path

    from bot.domain.attachments import MONTH
    from bot.services.hours_files import FORMATS, export_month
    from storage.db import create_engine, session_factory
    from storage.uow import UnitOfWork

    match = MONTH.match(args.month)
    if match is None:
        raise CliError(f"--month must be YYYY-MM, e.g. 2026-11 (got {args.month!r})")
    path = Path(args.file)
    if path.suffix.lower() not in FORMATS:
        raise CliError(f"{args.file}: the export is written as .csv or .xlsx")
    if not path.parent.is_dir():
        raise CliError(f"{args.file}: no such folder {path.parent}")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # stdout is the report; no migration chatter
    await migrate(settings)
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    try:
        report = await export_month(lambda: UnitOfWork(session_factory(engine)), path, int(match.group(1)),
                                    int(match.group(2)), settings.tz)
    except OSError as error:
        raise CliError(f"{args.file}: {error.strerror or error}") from None
    finally:
        await engine.dispose()
    print(f"exported {report.rows} service records, {report.minutes / 60:.2f} hours, of {args.month} to {args.file} "
          f"(honour hours not exported: {report.honour_minutes / 60:.2f})")
    return 0


async def report_command(settings: Settings, args: argparse.Namespace) -> int:
    """``report --month YYYY-MM [--community|--team|--building] --format F [--output FILE]``."""
    import json
    from pathlib import Path

    from bot.domain.attachments import MONTH
    from bot.domain.errors import DomainError
    from bot.domain.measures import Period, Scope
    from bot.i18n import I18n
    from bot.services import measures, report_files
    from bot.services.context import MeasureConfig
    from bot.views.report import report_text
    from storage.db import create_engine, session_factory
    from storage.uow import UnitOfWork

    match = MONTH.match(args.month)
    if match is None:
        raise CliError(f"--month must be YYYY-MM, e.g. 2026-11 (got {args.month!r})")
    output = Path(args.output) if args.output else None
    if args.format in ("xlsx", "png") and output is None:
        raise CliError(f"--format {args.format} needs --output FILE")
    if output is not None and not output.parent.is_dir():
        raise CliError(f"{args.output}: no such folder {output.parent}")
    scope = (Scope("community", args.community) if args.community else Scope("team", args.team) if args.team
             else Scope("building", args.building) if args.building else Scope())
    config = MeasureConfig(response_minutes=settings.measures.response_minutes)
    translate = I18n(settings.default_language).translator(settings.default_language)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    await migrate(settings)
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    try:
        async with UnitOfWork(session_factory(engine), read_only=True) as uow:
            try:
                data = await measures.report_data(uow, config, scope, Period.month(int(match.group(1)),
                                                                                  int(match.group(2))), settings.tz)
            except DomainError as error:
                raise CliError(translate(error.message, **error.params)) from None
            if args.format == "xlsx":
                assert output is not None
                await report_files.write_xlsx(uow, data, output, settings.tz)
                print(f"wrote the report of {args.month} to {output}")
                return 0
            if args.format == "png":  # the rates month by month in FILE; the teams side by side beside it
                assert output is not None
                charts = {output: "months"}
                if data.by_team:
                    charts[output.with_name(f"{output.stem}-teams{output.suffix or '.png'}")] = "teams"
                for path, chart in charts.items():
                    path.write_bytes(await report_files.chart_png(uow, data, chart, translate))
                    print(f"wrote the {chart} chart of {args.month} to {path}")
                return 0
    except OSError as error:
        raise CliError(f"{args.output}: {error.strerror or error}") from None
    finally:
        await engine.dispose()
    text = (json.dumps(report_files.report_json(data, config), ensure_ascii=False, indent=2)
            if args.format == "json" else report_text(data.place.name, data.period, data.measures, data.by_team,
                                                      translate))
    if output is None:
        print(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
    return 0


async def households_command(settings: Settings, args: argparse.Namespace) -> int:
    """``households import FILE``: the count goes to stdout, a line per bad row; exit 1 if any."""
    from pathlib import Path

    from bot.services.measures import import_households
    from storage.db import create_engine, session_factory
    from storage.uow import UnitOfWork

    path = Path(args.file)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    await migrate(settings)
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    try:
        report = await import_households(lambda: UnitOfWork(session_factory(engine)), path)
    except OSError as error:
        raise CliError(f"{args.file}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise CliError(f"{args.file}: not UTF-8 text") from None
    finally:
        await engine.dispose()
    print(f"set households of {report.rows} buildings or communities")
    for line in report.errors:
        print(line)
    return 1 if report.errors else 0


def backup_command(settings: Settings, file: str | None) -> int:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from storage.backup import BackupError, backup_sqlite

    if not file:
        raise CliError("db backup needs the FILE to write, e.g. volunteer-loop db backup backup-2026-12-01.sqlite3")
    url = make_url(settings.database.url)
    if url.get_backend_name() != "sqlite":
        raise CliError("db backup copies an SQLite database; on PostgreSQL use pg_dump: "
                       f"pg_dump --format=custom --file {file} {url.database} (docs/operations.md)")
    try:
        size = backup_sqlite(Path(url.database or ""), Path(file))
    except BackupError as error:
        raise CliError(str(error)) from None
    print(f"backed up {url.database} to {file} ({size} bytes)")
    return 0


async def copy_command(source_url: str | None, target_url: str | None) -> int:
    from storage.copy import CopyError, copy_database
    from storage.db import DatabaseUrlError, create_engine

    if not source_url or not target_url:
        raise CliError("db copy needs two database URLs: volunteer-loop db copy SRC DST, e.g. "
                       "sqlite+aiosqlite:///volunteer-loop.sqlite3 postgresql+asyncpg://user@host/volunteer_loop")
    try:
        source, target = create_engine(source_url), create_engine(target_url)
    except DatabaseUrlError as error:
        raise CliError(str(error)) from None
    try:
        copied = await copy_database(source, target)
    except CopyError as error:
        raise CliError(str(error)) from None
    finally:
        await source.dispose()
        await target.dispose()
    print(f"copied {sum(copied.values())} rows in {len(copied)} tables from {_safe_url(source_url)} "
          f"to {_safe_url(target_url)}; the measures' summaries were recomputed")
    return 0


async def rebuild_measures_command(settings: Settings) -> int:
    """``db rebuild-measures``: the measures' summaries from the raw rows, months in ``timezone``."""
    from bot.services.measures import rebuild_summaries
    from storage.clock import utc_now
    from storage.db import session_factory
    from storage.uow import UnitOfWork

    async with _database(settings) as engine, UnitOfWork(session_factory(engine)) as uow:
        minutes = await rebuild_summaries(uow, settings.tz, utc_now())
        await uow.commit()
    sign = "+" if minutes >= 0 else "-"
    print(f"measure summaries rebuilt; months cut at UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
    return 0


async def prune_command(settings: Settings) -> int:
    """``db prune``: one housekeeping pass (bot.services.housekeeping); safe beside running bots."""
    from bot.adapters.app import retention
    from bot.services.housekeeping import Housekeeper
    from storage.db import session_factory
    from storage.uow import UnitOfWork

    async with _database(settings) as engine:
        sessions = session_factory(engine)
        report = await Housekeeper(lambda: UnitOfWork(sessions),
                                   retention(settings.housekeeping, settings.privacy)).prune()
    print(f"pruned {report.processed_updates} update id(s) older than {settings.housekeeping.processed_updates_days} "
          f"days and {report.outbox} outbox row(s) older than {settings.housekeeping.outbox_days} days")
    if report.contacts:
        print(f"erased the contact of {report.contacts} request(s) finished more than "
              f"{settings.privacy.contact_retention_days} days ago")
    return 0


def webhook_settings(settings: Settings, args: argparse.Namespace) -> WebhookSettings:
    """The webhook settings with the command line's overrides; a URL and a secret token are required."""
    from pydantic import ValidationError

    from bot.settings import WebhookSettings, describe, require_webhook

    values = settings.webhook.model_dump()
    if values["secret_token"] is not None:
        values["secret_token"] = values["secret_token"].get_secret_value()
    for key in ("listen", "port", "url", "secret_token"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    try:
        hook = WebhookSettings(**values)
    except ValidationError as error:
        raise CliError(f"config error in {describe(error, 'webhook')}") from None
    require_webhook(hook)
    return hook


def _parked_id(text: str) -> int:
    row_id = database_id(text)
    if row_id is None:
        raise CliError(f"{text!r} is not a parked update's number (see `volunteer-loop updates parked`)")
    return row_id


async def updates_command(settings: Settings, args: argparse.Namespace) -> int:
    """``updates parked`` lists (never the contents), ``updates replay ID`` queues a parked update
    for the running bot, ``updates drop ID`` deletes one."""
    from storage.db import session_factory
    from storage.uow import UnitOfWork

    row_id = _parked_id(args.id) if args.action != "parked" else 0
    async with _database(settings) as engine, UnitOfWork(session_factory(engine)) as uow:
        if args.action == "parked":
            rows = await uow.parked.all()
            for row in rows:
                print(f"#{row.id}  update {row.update_id}  {row.kind}  {row.error_type}  "
                      f"parked {row.parked_at:%Y-%m-%d %H:%M} UTC  attempts {row.attempts}  {row.state}  "
                      f"{row.reason}")
            print(f"{len(rows)} parked update(s)")
            return 0
        done = await (uow.parked.request_replay(row_id) if args.action == "replay" else uow.parked.drop(row_id))
        await uow.commit()
    if not done:
        raise CliError(f"no parked update #{row_id} (see `volunteer-loop updates parked`)")
    if args.action == "replay":
        print(f"parked update #{row_id} queued: the running bot handles it again within seconds "
              "(and deletes it once handled; see `volunteer-loop updates parked`)")
    else:
        print(f"parked update #{row_id} deleted")
    return 0


def skip_unused_imports() -> None:
    """httpx imports its own command line (rich, click and pygments: a tenth of a second or more at
    start) whenever those are installed, as the test tools install them; the bot never calls it. A
    ``None`` in ``sys.modules`` makes that one import fail, and httpx falls back to its stub (its
    ``ImportError`` path), before anything imports httpx."""
    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # Python's way to refuse one import


# What `run` says when Telegram's side keeps the bot from starting (docs/startup.md): one line, exit 2.
UNREACHABLE = N_("cannot reach Telegram at {host} ({reason}; tries: {attempts}): check the network or {base_url}")
TOKEN_REFUSED = N_("Telegram refused the bot token: check {token_key} (or {token_variable}); {botfather} shows the "
                   "token of each of your bots")
PORT_IN_USE = N_("cannot listen on {listen}:{port} for the webhook: {reason} (another program uses it? choose one "
                 "with {port_option} or {port_key})")
WEBHOOK_REFUSED = N_("Telegram refused the webhook: {reason} (check {url_option} and {secret_option})")
# The names those lines point the operator to, the same in every language.
START_NAMES = {"base_url": "telegram.base_url", "token_key": "telegram.token",
               "token_variable": "VLOOP_TELEGRAM__TOKEN", "botfather": "@BotFather", "port_option": "--port",
               "port_key": "webhook.port", "url_option": "--url", "secret_option": "--secret-token"}
TRYING_AGAIN = "Telegram unreachable at start (%s); trying again in %.0f s (attempt %d of %d)"


async def run_bot(settings: Settings, webhook: WebhookSettings | None, clock: Clock) -> None:
    skip_unused_imports()
    from telegram.error import BadRequest, InvalidToken, NetworkError

    from bot.adapters.app import build_application
    from bot.adapters.runner import serve

    await migrate(settings)
    attempts, pause = settings.telegram.start_attempts, settings.telegram.start_backoff_seconds
    for attempt in range(1, attempts + 1):
        try:
            await serve(build_application(settings, clock=clock), webhook=webhook)
            return
        except InvalidToken:  # its message quotes the token: never shown
            raise _start_error(settings, TOKEN_REFUSED) from None
        except BadRequest as error:  # setWebhook's refusals (a URL, a secret token)
            raise _start_error(settings, WEBHOOK_REFUSED, reason=_without_token(settings, error.message)) from None
        except NetworkError as error:
            reason = _without_token(settings, error.message)
            if attempt == attempts:
                raise _start_error(settings, UNREACHABLE, host=urlsplit(settings.telegram.base_url).netloc,
                                   reason=reason, attempts=attempts) from None
            wait = min(pause * 2 ** (attempt - 1), 60.0)
            logging.getLogger(__name__).warning(TRYING_AGAIN, reason, wait, attempt + 1, attempts)
            await asyncio.sleep(wait)
        except OSError as error:
            if error.errno != errno.EADDRINUSE or webhook is None:
                raise
            raise _start_error(settings, PORT_IN_USE, listen=webhook.listen, port=webhook.port,
                               reason=error.strerror or str(error)) from None


def _without_token(settings: Settings, text: str) -> str:
    token = settings.telegram.token.get_secret_value() if settings.telegram.token else ""
    return text.replace(token, "***") if token else text


def _start_error(settings: Settings, message: str, **params: object) -> CliError:
    """One line in the configured language (the operator's, like the bot's default)."""
    from bot.i18n import I18n

    return CliError(html.unescape(I18n(settings.default_language).gettext(settings.default_language, message,
                                                                          **START_NAMES, **params)))


def demo_command(args: argparse.Namespace) -> int:
    """The demo builds its own settings: no configuration file, token or network."""
    skip_unused_imports()
    from pathlib import Path

    from bot.demo.run import run_demo

    language = "zh" if args.language == "zh_Hans" else "en"
    try:
        asyncio.run(run_demo(Path(args.dir) if args.dir else None, args.port, language))
    except OSError as error:  # the port is taken, the folder cannot be written
        raise CliError(f"demo: {error.strerror or error}") from None
    return 0


def main(argv: list[str] | None = None, *, clock: Clock | None = None) -> int:
    """Entry point of the console script (``clock``: the bot's time, injected by tests)."""
    from bot.settings import ConfigError, load_settings, require_token
    from storage.clock import utc_now

    args = build_parser().parse_args(argv)
    from bot.logformat import TEXT_FORMAT, apply_logging
    from bot.logsafety import protect_logs

    logging.basicConfig(level=logging.INFO, format=TEXT_FORMAT)  # until the settings say otherwise
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token in URLs
    if args.command == "run":  # a start that fails says so in one line (docs/startup.md): Alembic's and
        for chatty in ("alembic", "apscheduler"):  # APScheduler's INFO lines (plugins, jobs added) would bury it
            logging.getLogger(chatty).setLevel(logging.WARNING)

    protect_logs()  # no phone, name or address in any line, at any level (bot.logsafety)
    try:
        if args.command == "demo":
            return demo_command(args)
        settings = load_settings(args.config)
        apply_logging(settings.logging)  # [logging] level and format (bot.logformat)
        if args.command == "db" and args.action == "prune":
            return asyncio.run(prune_command(settings))
        if args.command == "db" and args.action == "backup":
            return backup_command(settings, args.file)
        if args.command == "db" and args.action == "copy":
            return asyncio.run(copy_command(args.file, args.target))
        if args.command == "db" and args.action == "rebuild-measures":
            return asyncio.run(rebuild_measures_command(settings))
        if args.command == "db":
            asyncio.run(migrate(settings))
            print("database is up to date")
            return 0
        if args.command == "volunteers":
            return asyncio.run(roster_command(settings, args))
        if args.command == "updates":
            return asyncio.run(updates_command(settings, args))
        if args.command == "hours":
            return asyncio.run(hours_command(settings, args))
        if args.command == "report":
            return asyncio.run(report_command(settings, args))
        if args.command == "households":
            return asyncio.run(households_command(settings, args))
        require_token(settings)
        webhook = webhook_settings(settings, args) if args.webhook else None
        asyncio.run(run_bot(settings, webhook, clock or utc_now))
        return 0
    except (ConfigError, CliError) as error:
        print(f"volunteer-loop: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
