"""A sheet defined once, written two ways: ``Table`` (a name, typed columns, rows) rendered by
one XLSX writer (every table a sheet: typed cells, bold frozen header, widths) and one CSV writer
(one table: UTF-8, a header line). Pure: tables in, bytes out.

A cell is a Python value of its column's kind; the writers never guess from the value, so a
name that looks like a number stays text and an empty cell stays empty in both files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

__all__ = ["MAX_XLSX_ROWS", "Cell", "Column", "ColumnKind", "Table", "csv_bytes", "xlsx_bytes"]

# text: str; count: int; number: float (one decimal shown); share: a fraction 0..1 (shown as
# a percentage in the workbook, written as the fraction in CSV); moment: a naive datetime, the
# reader's wall clock (Excel has no time zones).
ColumnKind = Literal["text", "count", "number", "share", "moment"]
Cell = str | int | float | datetime | None
FORMATS: dict[ColumnKind, str | None] = {
    "text": None,
    "count": None,
    "number": "0.0",
    "share": "0%",
    "moment": "yyyy-mm-dd hh:mm",  # Excel's own would show seconds nobody reads
}
WIDTH_SAMPLE = 200  # rows looked at for a column's width: enough, and cheap for a year's log
MAX_XLSX_ROWS = 1_048_575  # Excel's sheet holds 2^20 rows, the header one of them
MAX_WIDTH = 40


@dataclass(frozen=True, slots=True)
class Column:
    header: str  # in the reader's language
    kind: ColumnKind = "text"


@dataclass(frozen=True, slots=True)
class Table:
    """Rows are plain sequences, not validated values: a year's log is 10⁵–10⁶ of them."""

    name: str  # the sheet's title; the CSV file's stem
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[Cell]]


def xlsx_bytes(tables: Sequence[Table], *, max_rows: int = MAX_XLSX_ROWS) -> bytes:
    """A workbook with a sheet per table, in order; a table longer than a sheet holds keeps its
    last ``max_rows`` rows (the log is oldest first: the latest), where Excel would refuse
    the whole file. (CSV has no such limit.)

    Written in openpyxl's write-only mode: rows stream to the file instead of living as cell
    objects, which halves the time of a month's log and keeps memory flat."""
    book = Workbook(write_only=True)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])  # Excel's limit on a sheet's title
        sample = table.rows[:WIDTH_SAMPLE]
        # Column settings must come before the first row in write-only mode.
        for index, column in enumerate(table.columns):
            width = max([len(column.header), *(_shown_width(r[index]) for r in sample)])
            sheet.column_dimensions[get_column_letter(index + 1)].width = min(
                max(width + 2, 8), MAX_WIDTH
            )
        sheet.freeze_panes = "A2"
        sheet.append([_cell(sheet, c.header, None, bold=True) for c in table.columns])
        formats = [FORMATS[c.kind] for c in table.columns]
        styled = [i for i, f in enumerate(formats) if f is not None]
        for row in table.rows[-max_rows:]:
            line: list[Any] = list(row)
            for index in styled:  # only the formatted columns pay for a cell object
                line[index] = _cell(sheet, line[index], formats[index])
            sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(table: Table) -> bytes:
    """One table as CSV: UTF-8 without a byte-order mark, a header line, commas, ``\\r\\n``
    line ends (RFC 4180), numbers with a point, moments as ``YYYY-MM-DD HH:MM:SS``, an empty
    field for no value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in table.columns])
    moments = [i for i, c in enumerate(table.columns) if c.kind == "moment"]
    for row in table.rows:
        if moments:
            line = list(row)
            for index in moments:
                value = line[index]
                if isinstance(value, datetime):
                    line[index] = value.isoformat(sep=" ", timespec="seconds")
            writer.writerow(line)
        else:
            writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _shown_width(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16  # yyyy-mm-dd hh:mm
    return len(str(value))


def _cell(sheet: Any, value: Cell, number_format: str | None, *, bold: bool = False) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if number_format is not None:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell
