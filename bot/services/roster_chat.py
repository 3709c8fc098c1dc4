"""The roster through the chat: a coordinator sends a CSV or XLSX file to import it, and
``/roster [csv|xlsx]`` sends the roster back as a file (made when the message goes out)."""

from __future__ import annotations

from bot.domain.attachments import ROSTER_FORMATS, RosterExport
from bot.domain.errors import InvalidInput
from bot.i18n import N_, P_
from bot.services.context import ServiceContext
from bot.services.roster import FORMATS, ImportReport, RosterFileError, RowError, Skills

MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
# The roster's columns as the report names them (bot.services.roster.COLUMNS, and "row": the whole row).
COLUMN_NAMES = {"name": N_("Name"), "phone": N_("Phone"), "registry_number": N_("Registry number"),
                "community": N_("Community"), "team": N_("Team"), "skills": N_("Skills"), "row": N_("the whole row")}
REPORTED_ERRORS = 30  # row errors listed in the reply; the count says how many more


def check_upload(ctx: ServiceContext, file_name: str | None, size: int | None) -> None:
    """Before downloading: only a coordinator's roster file of a usable kind and size."""
    if not ctx.is_coordinator:  # to anyone else a file is just something the bot cannot read
        raise InvalidInput(N_("I can read text messages, voice notes, photos and shared contacts only."))
    if not file_name or not file_name.lower().endswith(FORMATS):
        raise InvalidInput(N_("Send the roster as a .csv or .xlsx file (see the columns in docs/roster.md)."))
    if size is not None and size > MAX_FILE_BYTES:
        raise InvalidInput(N_("That file is too large; the limit is 20 MB. Split it, or use the command line."))


async def imported(ctx: ServiceContext, file_name: str, report: ImportReport) -> None:
    """Tell the coordinator what the import did, row errors included."""
    _ = ctx.tell.tr(ctx.user)
    lines = [_(P_("Roster {file}: {rows} row — {created} new, {updated} updated, {unchanged} unchanged, {failed} "
                  "with errors.", "Roster {file}: {rows} rows — {created} new, {updated} updated, {unchanged} "
                  "unchanged, {failed} with errors.", "rows"), file=file_name, rows=report.rows, created=report.created,
               updated=report.updated, unchanged=report.unchanged, failed=report.failed)]
    lines += [_("Row {row}, {column}:", row=error.row, column=_(COLUMN_NAMES.get(error.column, error.column)))
              + " " + reason(ctx, error) for error in report.errors[:REPORTED_ERRORS]]
    if len(report.errors) > REPORTED_ERRORS:
        lines.append(_(P_("… and {count} more row with errors.", "… and {count} more rows with errors."),
                       count=len(report.errors) - REPORTED_ERRORS))
    await ctx.tell.send(ctx.user.telegram_id, "\n".join(lines), recipient=ctx.user)
    await ctx.uow.commit()


def reason(ctx: ServiceContext, error: RowError) -> str:
    """Why a row was refused, all in the reader's language (skills by their names, not codes)."""
    params = {name: ctx.tell.skill_names(ctx.user, value) if isinstance(value, Skills) else value
              for name, value in error.params}
    return ctx.tell.tr(ctx.user)(error.message, **params)


async def unreadable(ctx: ServiceContext, file_name: str, error: RosterFileError) -> None:
    await ctx.tell(ctx.user, N_("Nothing was imported from {file}: {reason}"), file=file_name,
                    reason=ctx.tell.tr(ctx.user)(error.message, **error.params))
    await ctx.uow.commit()


async def export(ctx: ServiceContext, file_format: str) -> None:
    ctx.require_coordinator()
    file_format = file_format.lower().lstrip(".")
    if file_format not in ROSTER_FORMATS:
        raise InvalidInput(N_("Usage: /roster [csv|xlsx]"))
    await ctx.tell.send_file(ctx.user.telegram_id, ctx.user,
                              N_("The roster as of now. Send a file like it back to import changes."),
                              RosterExport(file_format), protect=True)
    await ctx.uow.commit()
