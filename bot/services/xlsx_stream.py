"""A minimal streaming XLSX writer: sheets of text and numbers (inline strings, no styles), written
row by row into the zip as they come. The registry export needs nothing more, and openpyxl's
write-only mode spends about 9 s on a district's month (160,000 rows × 5 cells) where this spends
well under one (docs/benchmarks.md); openpyxl still reads what this writes (the tests do).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO
from xml.sax.saxutils import escape, quoteattr

Cell = str | int | float | None
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
# Characters XML 1.0 cannot hold: dropped (they can only come from pasted text).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
BUFFERED_ROWS = 2000


def _cell(value: Cell) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f"<c><v>{value!r}</v></c>"
    return f'<c t="inlineStr"><is><t xml:space="preserve">{escape(_NOT_XML.sub("", value))}</t></is></c>'


class Sheet:
    """Rows appended to one worksheet part."""

    def __init__(self, part: IO[bytes]) -> None:
        self._part = part
        self._pending: list[str] = []

    def append(self, row: Sequence[Cell]) -> None:
        self._pending.append("<row>" + "".join(_cell(v) for v in row) + "</row>")
        if len(self._pending) >= BUFFERED_ROWS:
            self.flush()

    def flush(self) -> None:
        self._part.write("".join(self._pending).encode("utf-8"))
        self._pending.clear()


class XlsxWriter:
    """``with XlsxWriter(path) as book: with book.sheet("name") as rows: rows.append((...))``."""

    def __init__(self, path: str | Path) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._names: list[str] = []

    @contextmanager
    def sheet(self, name: str) -> Iterator[Sheet]:
        self._names.append(name)
        with self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w") as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">'
                       "<sheetData>".encode())
            rows = Sheet(part)
            yield rows
            rows.flush()
            part.write(b"</sheetData></worksheet>")

    def close(self) -> None:
        """The package's parts that name the sheets, then the zip's directory."""
        count = range(1, len(self._names) + 1)
        head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        self._zip.writestr("[Content_Types].xml", head + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in count) + "</Types>"))
        self._zip.writestr("_rels/.rels", head + (
            f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
            "</Relationships>"))
        self._zip.writestr("xl/workbook.xml", head + (
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
            + "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
                      for i, name in zip(count, self._names, strict=True)) + "</sheets></workbook>"))
        self._zip.writestr("xl/_rels/workbook.xml.rels", head + (
            f'<Relationships xmlns="{PACKAGE}">'
            + "".join(f'<Relationship Id="rId{i}" Target="worksheets/sheet{i}.xml" '
                      'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
                      for i in count) + "</Relationships>"))
        self._zip.close()

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
