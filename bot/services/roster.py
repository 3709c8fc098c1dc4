"""The volunteer roster: import from and export to CSV or XLSX in the registry's column shape.

Telegram-free. Rows are streamed from the file and written in batches, each batch its own unit of
work and commit, so a 130,000-row file needs neither the whole file nor the whole roster in memory.
A bad row is reported (row number, column, reason) and never stops the others. See docs/roster.md.

Matching (so that importing the same file again changes nothing):

1. a row with a registry number updates the volunteer with that registry number;
2. otherwise the row updates a volunteer with the same phone — one with no registry number, or any
   one if the row has none — preferring one in the row's team, then the oldest;
3. otherwise a new volunteer is created (``source`` ``roster``, approved, no Telegram account yet).

An empty registry number cell never clears a registry number already stored. Two rows of one file
that land on the same volunteer are a mistake in the file: the later one is reported.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.errors import InvalidInput
from bot.domain.phones import national_form, normalise_phone
from bot.i18n import N_, P_
from storage.errors import AlreadyTaken
from storage.uow import UnitOfWork

COLUMNS = ("name", "phone", "registry_number", "community", "team", "skills")
REQUIRED = ("name", "phone")
# The header written on export: the registry's own (Chinese) column names.
EXPORT_HEADER = ("姓名", "手机号", "志愿者编号", "社区", "服务队", "技能")
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "name", "full name", "fullname"),
    "phone": ("手机号", "手机", "手机号码", "电话", "联系电话", "phone", "mobile", "phone number", "tel"),
    "registry_number": ("志愿者编号", "志愿者注册编号", "注册编号", "编号", "registry_number", "registry number",
                        "registry no", "registry_no", "registry id"),
    "community": ("社区", "所属社区", "community"),
    "team": ("服务队", "所属服务队", "队伍", "团队", "team", "team code"),
    "skills": ("技能", "特长", "技能特长", "skills", "skill"),
}
_HEADER_LOOKUP = {alias.casefold(): column for column, aliases in ALIASES.items() for alias in aliases}
HEADER_SEARCH_ROWS = 10  # a title line or two above the header is allowed
BATCH_SIZE = 1000
LIMITS = {"name": 128, "community": 128}
SKILL_SEPARATORS = re.compile(r"[;；、,，]")
# The national volunteer registry number, as we check it: 6–32 letters and digits (hyphens allowed
# inside), at least 4 digits, case-insensitive (stored upper-case, spaces removed).
_REGISTRY_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{4,30}[A-Z0-9]$")
FORMATS = (".csv", ".xlsx")


class RosterFileError(Exception):
    """The file as a whole cannot be read (missing, wrong format, no header): nothing was imported.
    ``message`` (a msgid) and ``params`` let a chat say it in the reader's language; ``str()`` is
    the English the command line prints."""

    def __init__(self, message: str, **params: object) -> None:
        self.message, self.params = message, params
        super().__init__(message.format(**params))


class RowProblem(ValueError):
    """Why a cell is refused: a msgid and its values (``str()``: in English)."""

    def __init__(self, message: str, **params: object) -> None:
        self.message, self.params = message, params
        super().__init__(message.format(**params))


class Skills(tuple[str, ...]):
    """Skill codes as a reason's value: the codes in English (the command line's report), each
    skill's name in the reader's language in a chat (bot.services.roster_chat)."""

    def __str__(self) -> str:
        return ", ".join(self)

    __format__ = object.__format__


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet row number (the header is row 1 when it is the first line)
    column: str  # one of COLUMNS, or "row" for the whole row
    message: str  # why, a msgid (English) …
    params: tuple[tuple[str, object], ...] = ()  # … with these values

    @property
    def reason(self) -> str:
        """Why, in English (the command line's report)."""
        return self.message.format(**dict(self.params))

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"


@dataclass
class ImportReport:
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        prefix = "dry run, nothing written: " if self.dry_run else ""
        return (f"{prefix}{self.rows} rows: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.failed} failed")


@dataclass
class _Entry:
    """A valid row, ready to match: the values a volunteer would get."""

    row: int
    name: str
    phone: str
    registry_number: str | None
    community: str
    team_id: int
    skills: list[str]


# -- reading files -----------------------------------------------------------------------------------
SPREADSHEET_DIGITS = 15
"""Significant digits a spreadsheet keeps of a number: a longer whole number lost its last digits."""


def _cell(value: Any) -> str:
    """A cell as text. A whole number held as a float (``13800138000.0``) is written as digits if a
    spreadsheet kept all of them, else as the spreadsheet shows it (``1.23456789012345E+17``): its
    last digits are gone, and the column's check refuses it as it refuses the same text in a CSV."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value) if abs(value) < 10 ** SPREADSHEET_DIGITS else f"{value:.{SPREADSHEET_DIGITS}G}"
    return str(value).strip()


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); checked over the whole file."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise RosterFileError(N_("{file}: not UTF-8 or GBK text"), file=path.name)


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open(encoding=_csv_encoding(path), newline="") as handle:
        for record in csv.reader(handle):
            yield [_cell(value) for value in record]


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - zip, XML and openpyxl errors all mean "not a workbook"
        raise RosterFileError(N_("{file}: not a readable XLSX workbook ({error})"), file=path.name,
                              error=type(error).__name__) from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in values]
    finally:
        workbook.close()


def check_path(path: str | Path, *, writing: bool) -> Path:
    """The path, if its format is known and the file (or, for writing, its folder) exists."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise RosterFileError(N_("{file}: unknown format {suffix}; use .csv or .xlsx"), file=path.name,
                              suffix=repr(suffix or "(no extension)"))
    if writing and not path.parent.is_dir():
        raise RosterFileError(N_("{file}: no such directory"), file=str(path.parent))
    if not writing and not path.is_file():
        raise RosterFileError(N_("{file}: no such file"), file=str(path))
    return path


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, str]]]:
    """``(row number, {column: text})`` for every non-blank data row; raises RosterFileError early
    (on the first ``next``) when the file, its format or its header is unusable."""
    path = check_path(path, writing=False)
    suffix = path.suffix.lower()
    records = _csv_rows(path) if suffix == ".csv" else _xlsx_rows(path)
    positions: dict[str, int] | None = None
    for number, record in enumerate(records, start=1):
        if positions is None:
            positions = _header(record, path.name, number)
            if positions is None and number >= HEADER_SEARCH_ROWS:
                break
            continue
        if not any(record):
            continue
        yield number, {column: (record[i] if i < len(record) else "") for column, i in positions.items()}
    if positions is None:
        raise RosterFileError(P_("{file}: no header row with the columns 姓名/name and 手机号/phone in the first "
                                 "{rows} row", "{file}: no header row with the columns 姓名/name and 手机号/phone "
                                 "in the first {rows} rows", "rows"), file=path.name, rows=HEADER_SEARCH_ROWS)


def _header(record: list[str], filename: str, number: int) -> dict[str, int] | None:
    positions: dict[str, int] = {}
    for index, title in enumerate(record):
        column = _HEADER_LOOKUP.get(" ".join(title.replace("_", " ").split()).casefold()) \
            or _HEADER_LOOKUP.get(title.casefold())
        if column is None:
            continue
        if column in positions:
            raise RosterFileError(N_("{file}: row {row} has two {column} columns"), file=filename, row=number,
                                  column=column)
        positions[column] = index
    return positions if all(column in positions for column in REQUIRED) else None


# -- checking rows -------------------------------------------------------------------------------------
MISSING, TOO_LONG, ALREADY_IN = N_("missing"), N_("longer than {limit} characters"), N_("already in row {other}")


def normalise_registry_number(raw: str) -> str:
    """The registry number as stored; ValueError with the reason if it is not plausible."""
    text = "".join(raw.split()).upper()
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", text):
        raise RowProblem(N_("looks like a number a spreadsheet rounded (e.g. 1.23E+17); format the column as text"))
    if not _REGISTRY_NUMBER.match(text) or sum(c.isdigit() for c in text) < 4:
        raise RowProblem(N_("not a registry number (6–32 letters and digits, at least 4 digits)"))
    return text


class _Teams:
    def __init__(self, teams: Iterable[Any]) -> None:
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, int | None] = {}  # None: two teams share the name
        self.codes: dict[int, str] = {}
        for team in teams:
            self.by_code[team.code.casefold()] = team.id
            key = team.name.strip().casefold()
            self.by_name[key] = None if key in self.by_name else team.id
            self.codes[team.id] = team.code

    def find(self, text: str) -> int:
        key = text.strip().casefold()
        if key in self.by_code:
            return self.by_code[key]
        if key in self.by_name:
            found = self.by_name[key]
            if found is None:
                raise RowProblem(N_("two teams are called {team}; use the team code"), team=repr(text))
            return found
        raise RowProblem(N_("no team {team} (use a team code or name)"), team=repr(text))


def _check(number: int, raw: dict[str, str], teams: _Teams, skills: Collection[str]) -> _Entry | list[RowError]:
    errors: list[RowError] = []

    def fail(column: str, message: str, **params: object) -> None:
        errors.append(RowError(number, column, message, tuple(params.items())))

    name = " ".join(raw.get("name", "").split())
    if not name:
        fail("name", MISSING)
    elif len(name) > LIMITS["name"]:
        fail("name", TOO_LONG, limit=LIMITS["name"])
    phone = ""
    if not raw.get("phone"):
        fail("phone", MISSING)
    else:
        try:
            phone = normalise_phone(raw["phone"])
        except InvalidInput:
            fail("phone", N_("not a phone number: {value}"), value=repr(raw["phone"][:40]))
    registry_number = None
    if raw.get("registry_number"):
        try:
            registry_number = normalise_registry_number(raw["registry_number"])
        except RowProblem as error:
            fail("registry_number", error.message, **error.params)
    community = " ".join(raw.get("community", "").split())
    if len(community) > LIMITS["community"]:
        fail("community", TOO_LONG, limit=LIMITS["community"])
    team_id = 0
    if not raw.get("team"):
        fail("team", MISSING)
    else:
        try:
            team_id = teams.find(raw["team"])
        except RowProblem as error:
            fail("team", error.message, **error.params)
    codes: list[str] = []
    for part in SKILL_SEPARATORS.split(raw.get("skills", "")):
        code = part.strip().casefold()
        if not code or code in codes:
            continue
        if code not in skills:
            fail("skills", N_("unknown skill {skill} (known: {known})"), skill=repr(part.strip()),
                 known=Skills(sorted(skills)))
        codes.append(code)
    if errors:
        return errors
    return _Entry(number, name, phone, registry_number, community, team_id, codes)


# -- importing --------------------------------------------------------------------------------------------
class _Importer:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], skills: Collection[str], dry_run: bool) -> None:
        self.uow_factory = uow_factory
        self.skills = frozenset(skills)
        self.report = ImportReport(dry_run=dry_run)
        # File-wide keys, so two rows never land on the same volunteer (see the module docstring).
        self.seen_registry: dict[str, int] = {}
        self.seen_phone: dict[str, int] = {}
        self.seen_phone_unregistered: dict[str, int] = {}
        self.touched: dict[int, int] = {}  # existing volunteer id -> the row that matched it

    def _duplicate(self, entry: _Entry) -> RowError | None:
        if entry.registry_number is not None:
            if entry.registry_number in self.seen_registry:
                return RowError(entry.row, "registry_number", ALREADY_IN,
                                (("other", self.seen_registry[entry.registry_number]),))
            if entry.phone in self.seen_phone_unregistered:
                return RowError(entry.row, "phone", N_("already in row {other}, which has no registry number"),
                                (("other", self.seen_phone_unregistered[entry.phone]),))
        elif entry.phone in self.seen_phone:
            return RowError(entry.row, "phone", ALREADY_IN, (("other", self.seen_phone[entry.phone]),))
        return None

    def _remember(self, entry: _Entry) -> None:
        if entry.registry_number is not None:
            self.seen_registry[entry.registry_number] = entry.row
        else:
            self.seen_phone_unregistered.setdefault(entry.phone, entry.row)
        self.seen_phone.setdefault(entry.phone, entry.row)

    async def run(self, rows: Iterator[tuple[int, dict[str, str]]], batch_size: int) -> ImportReport:
        async with self.uow_factory() as uow:
            self.teams = _Teams(await uow.teams.every())
        batch: list[_Entry] = []
        for number, raw in rows:
            self.report.rows += 1
            checked = _check(number, raw, self.teams, self.skills)
            if isinstance(checked, list):
                self._failed(checked)
                continue
            duplicate = self._duplicate(checked)
            if duplicate is not None:
                self._failed([duplicate])
                continue
            self._remember(checked)
            batch.append(checked)
            if len(batch) >= batch_size:
                await self._batch(batch)
                batch = []
        if batch:
            await self._batch(batch)
        return self.report

    def _failed(self, errors: list[RowError]) -> None:
        self.report.failed += 1
        self.report.errors.extend(errors)

    async def _batch(self, batch: list[_Entry]) -> None:
        try:
            await self._write(batch, one_by_one=False)
        except AlreadyTaken:
            # Another writer (or a constraint we do not check, such as one Telegram account twice
            # in a team) got in the way: read again and write row by row, reporting the rows that
            # still conflict.
            await self._write(batch, one_by_one=True)

    async def _write(self, batch: list[_Entry], *, one_by_one: bool) -> None:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        touched: dict[int, int] = {}
        failed: list[RowError] = []
        async with self.uow_factory() as uow:
            existing = await uow.volunteers.matching(
                {e.registry_number for e in batch if e.registry_number}, {e.phone for e in batch})
            records = [dict(row._mapping) for row in existing]
            by_registry = {r["registry_number"]: r for r in records if r["registry_number"]}
            by_phone: dict[str, list[dict[str, Any]]] = {}
            for known in records:
                by_phone.setdefault(known["phone"], []).append(known)
            inserts: list[tuple[_Entry, dict[str, Any]]] = []
            updates: list[tuple[_Entry, dict[str, Any]]] = []
            for entry in batch:
                record = by_registry.get(entry.registry_number) if entry.registry_number else None
                if record is None:
                    candidates = [r for r in by_phone.get(entry.phone, ())
                                  if entry.registry_number is None or r["registry_number"] is None]
                    if candidates:
                        record = min(candidates, key=lambda r: (r["team_id"] != entry.team_id, r["id"] or 0))
                values = {"name": entry.name, "phone": entry.phone, "community": entry.community,
                          "team_id": entry.team_id, "skills": entry.skills}
                if entry.registry_number is not None:
                    values["registry_number"] = entry.registry_number
                if record is None:
                    record = {"id": None, "registry_number": entry.registry_number, **values}
                    inserts.append((entry, {**values, "registry_number": entry.registry_number,
                                            "source": "roster", "status": "approved", "decided_at": uow.now()}))
                    counts["created"] += 1
                elif record["id"] is not None and (record["id"] in self.touched or record["id"] in touched):
                    earlier = self.touched.get(record["id"]) or touched[record["id"]]
                    failed.append(RowError(entry.row, "row", N_("the same volunteer as row {other}"),
                                           (("other", earlier),)))
                    continue
                else:
                    if record["id"] is not None:
                        touched[record["id"]] = entry.row
                    changes = {k: v for k, v in values.items() if record[k] != v}
                    if not changes:
                        counts["unchanged"] += 1
                        continue
                    if record["id"] is not None:
                        updates.append((entry, {"id": record["id"], **changes}))
                    counts["updated"] += 1
                # Keep the working set as the database will be, for the rest of this batch.
                old_phone = record["phone"]
                record.update(values)
                if old_phone != record["phone"]:
                    by_phone[old_phone] = [r for r in by_phone.get(old_phone, []) if r is not record]
                if not any(r is record for r in by_phone.setdefault(record["phone"], [])):
                    by_phone[record["phone"]].append(record)
                if record["registry_number"]:
                    by_registry[record["registry_number"]] = record
            if self.report.dry_run:
                pass
            elif not one_by_one:
                await uow.volunteers.insert_many([values for _, values in inserts])
                await uow.volunteers.update_many([values for _, values in updates])
                await uow.commit()
            else:
                for kind, items in (("created", inserts), ("updated", updates)):
                    for entry, values in items:
                        try:
                            async with uow.session.begin_nested():
                                if kind == "created":
                                    await uow.volunteers.insert_many([values])
                                else:
                                    await uow.volunteers.update_many([values])
                        except AlreadyTaken:
                            counts[kind] -= 1
                            failed.append(RowError(entry.row, "row", N_(
                                "conflicts with another volunteer (a registry number or team membership)")))
                await uow.commit()
        self.touched.update(touched)
        for key, value in counts.items():
            setattr(self.report, key, getattr(self.report, key) + value)
        for error in sorted(failed, key=lambda e: e.row):
            self._failed([error])


async def import_roster(uow_factory: Callable[[], UnitOfWork], path: str | Path, *, skills: Collection[str],
                        dry_run: bool = False, batch_size: int = BATCH_SIZE) -> ImportReport:
    """Import the roster file at ``path``; ``skills`` is the skill catalogue (the configured service
    categories). Raises RosterFileError before writing anything if the file cannot be used."""
    rows = read_rows(path)
    first = next(rows, None)  # header and format problems surface here, before any write

    def chained() -> Iterator[tuple[int, dict[str, str]]]:
        if first is not None:
            yield first
            yield from rows

    return await _Importer(uow_factory, skills, dry_run).run(chained(), batch_size)


# -- exporting ----------------------------------------------------------------------------------------------
async def _roster(uow_factory: Callable[[], UnitOfWork], page: int) -> AsyncIterator[tuple[str, ...]]:
    """Export rows, one short read transaction per page (SQLite's write lock is never held long)."""
    after = 0
    while True:
        async with uow_factory() as uow:
            rows = await uow.volunteers.roster_page(after, page)
        for row in rows:
            yield (row.name, national_form(row.phone), row.registry_number or "", row.community, row.code,
                   ";".join(row.skills))
        if len(rows) < page:
            return
        after = rows[-1].id


async def export_roster(uow_factory: Callable[[], UnitOfWork], path: str | Path, *, page: int = BATCH_SIZE) -> int:
    """Write every volunteer (not rejected) to ``path`` (.csv or .xlsx); returns the row count."""
    path = check_path(path, writing=True)
    suffix = path.suffix.lower()
    count = 0
    if suffix == ".csv":
        # UTF-8 with a BOM: what spreadsheet programs need to open Chinese text correctly.
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_HEADER)
            async for values in _roster(uow_factory, page):
                writer.writerow(values)
                count += 1
        return count
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("roster")
    sheet.append(EXPORT_HEADER)
    async for values in _roster(uow_factory, page):
        sheet.append(values)  # every value a string: phones and registry numbers stay text
        count += 1
    workbook.save(path)
    return count
