"""Where the rows of an import come from: a CSV text stream or a list of JSON objects.

Both yield `(locator, {column: text})` for every row, or a `RowError` for a row that cannot
even be split into columns; a CSV with a bad header yields its errors and nothing else.
The CSV is read line by line, never whole.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from bot.services.billing.formats import BadValue, Kind, check_header, column_names, to_text


@dataclass(frozen=True, slots=True)
class RowError:
    """One thing wrong with the input: CSV line number (1 = header) or JSON item index."""

    line: int | None
    item: int | None
    column: str
    reason: str

    def format(self, name: str) -> str:
        if self.item is not None:
            return f"{name}[{self.item}]: {self.column}: {self.reason}"
        return f"{name}:{self.line or 0}: {self.column}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        where: dict[str, Any] = (
            {"item": self.item} if self.item is not None else {"line": self.line}
        )
        return {**where, "column": self.column, "message": self.reason}


@dataclass(frozen=True, slots=True)
class RawRow:
    line: int | None
    item: int | None
    values: dict[str, str]

    def error(self, column: str, reason: str) -> RowError:
        return RowError(self.line, self.item, column, reason)


Rows = Iterator[RawRow | RowError]

csv.field_size_limit(64 * 1024)


_AFTER_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")


def utf8_lines(binary: IO[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 byte stream, decoded one at a time (a UTF-8 BOM is dropped).

    A text stream decodes ahead in chunks, so a bad byte would be reported on the line
    being read then, not its own. Lines end as with newline="": \\n, \\r\\n or a lone \\r
    (split as bytes: no byte of a multi-byte UTF-8 character is \\r).
    """
    encoding = "utf-8-sig"
    for raw in binary:
        for part in _AFTER_LONE_CR.split(raw):
            if part:
                yield part.decode(encoding)
                encoding = "utf-8"


def csv_rows(kind: Kind, stream: Iterable[str]) -> Rows:
    """Rows of CSV text lines: `utf8_lines(binary)`, or a text stream opened with
    newline="" and encoding="utf-8-sig"."""
    reader = csv.reader(stream, strict=True)
    line = 0
    try:
        header_row = next(reader, None)
        line = reader.line_num
        if header_row is None:
            yield RowError(1, None, "header", "the file is empty (a header row is required)")
            return
        header = [h.strip().lstrip("\ufeff").strip().lower() for h in header_row]
        header_errors = check_header(kind, header)
        if header_errors:
            for err in header_errors:
                yield RowError(1, None, err.column, err.reason)
            return
        width = len(header)
        for fields in reader:
            start = line + 1
            line = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # an empty line
            if len(fields) != width:
                yield RowError(start, None, "row", f"{len(fields)} fields, the header has {width}")
                continue
            yield RawRow(start, None, dict(zip(header, fields, strict=True)))
    except UnicodeDecodeError:
        yield RowError(line + 1, None, "file", "not valid UTF-8 text (save the file as UTF-8)")
    except csv.Error as exc:
        yield RowError(line + 1, None, "file", f"not a valid CSV: {exc}")


def json_rows(kind: Kind, items: Any) -> Rows:
    """Rows of a parsed JSON body: a list of objects with the CSV's columns as keys.

    Parse the body with `json.loads(..., parse_float=Decimal)` so amounts keep their digits.
    """
    if not isinstance(items, list):
        yield RowError(None, None, "body", "expected a JSON array of objects")
        return
    known = set(column_names(kind))
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            yield RowError(None, index, "item", "expected an object")
            continue
        bad = False
        values: dict[str, str] = {}
        for key, value in item.items():
            if key not in known:
                yield RowError(None, index, str(key), "unknown field")
                bad = True
                continue
            try:
                values[key] = to_text(value)
            except BadValue as exc:
                yield RowError(None, index, key, str(exc))
                bad = True
        if not bad:
            yield RawRow(None, index, values)
