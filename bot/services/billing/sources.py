"""Where the rows of an import come from: a CSV text stream or a list of JSON objects.

Both yield `(locator, {column: text})` for every row, or a `RowError` for a row that cannot
even be split into columns; a CSV with a bad header yields its errors and nothing else.
The CSV is read line by line, never whole.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

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


@dataclass(slots=True)  # not frozen: made for every row, and frozen costs ~0.5 µs more
class RawRow:
    line: int | None
    item: int | None
    values: dict[str, str]

    def error(self, column: str, reason: str) -> RowError:
        return RowError(self.line, self.item, column, reason)


Rows = Iterator[RawRow | RowError]

csv.field_size_limit(64 * 1024)


_AFTER_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

#: the encodings a billing CSV may come in, by every name they are given → the codec used
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "cp1251": "cp1251",
    "windows-1251": "cp1251",
}
#: the separators a billing CSV may use: ',' (the format's own) and ';' (Excel in Russia, 1C)
SEPARATORS = (",", ";")


class UnknownEncoding(ValueError):
    pass


def canonical_encoding(name: str) -> str:
    """`utf-8`, `UTF8`, `cp1251`, `windows-1251` → `utf-8` or `cp1251`."""
    try:
        return ENCODINGS[name.strip().lower()]
    except KeyError:
        raise UnknownEncoding(
            f"unsupported encoding {name!r}: use utf-8 (the default) or cp1251 (Windows-1251)"
        ) from None


class BadEncoding(ValueError):
    """The bytes are not text in the encoding given; the message says what they look like."""


_CYRILLIC_CP1251 = re.compile(rb"[\xc0-\xff]{2}")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _looks_like_cp1251(raw: bytes) -> bool:
    """Russian letters in Windows-1251 are bytes C0–FF; two in a row are never UTF-8."""
    try:
        raw.decode("cp1251")
    except UnicodeDecodeError:
        return False
    return _CYRILLIC_CP1251.search(raw) is not None


def _looks_like_utf8(raw: bytes) -> bool:
    """UTF-8 with Russian letters in it (which Windows-1251 text practically never is)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CYRILLIC.search(text) is not None


def decode_text(raw: bytes, encoding: str, *, advice: str = "", first: bool = True) -> str:
    """Bytes in `encoding` (`utf-8` or `cp1251`) → text; a leading UTF-8 BOM is dropped
    (when `first`: the start of the file or body).

    Raises `BadEncoding` for bytes that are not text in `encoding`, and for text given as
    cp1251 that is plainly UTF-8 (it would turn into mojibake silently). When bytes that
    are not UTF-8 look like Windows-1251 the message says so, followed by `advice`: how
    to send them that way (the command's option, the API's charset).
    """
    if first and raw.startswith(_UTF16_BOMS):
        raise BadEncoding(
            "the file is UTF-16 (Excel's “Unicode text”): save it as “CSV UTF-8” or plain CSV"
        )
    if first and raw.startswith(_UTF8_BOM):
        if encoding != "utf-8":
            raise BadEncoding(
                f"the file starts with a UTF-8 mark (BOM): it is UTF-8, not {encoding}; "
                "import it as UTF-8 (the default)"
            )
        raw = raw[len(_UTF8_BOM) :]
    if encoding != "utf-8" and not raw.isascii() and _looks_like_utf8(raw):
        raise BadEncoding(
            f"the file looks like UTF-8, not {encoding}: import it as UTF-8 (the default)"
        )
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        if encoding == "utf-8" and _looks_like_cp1251(raw):
            raise BadEncoding(
                "not valid UTF-8 text: the file looks like Windows-1251 (cp1251, as Excel in "
                f"Russia saves CSV); {advice or 'import it as cp1251'}"
            ) from None
        name = "UTF-8" if encoding == "utf-8" else "Windows-1251"
        raise BadEncoding(f"not valid {name} text (save the file as UTF-8)") from None
    return text


def decoded_lines(
    binary: Iterable[bytes], encoding: str = "utf-8", *, advice: str = ""
) -> Iterator[str]:
    """The lines of a byte stream, decoded one at a time by `decode_text`.

    A text stream decodes ahead in chunks, so a bad byte would be reported on the line
    being read then, not its own. Lines end as with newline="": \\n, \\r\\n or a lone \\r
    (split as bytes: no byte of a multi-byte UTF-8 character, and no Windows-1251 byte but
    \\r itself, is \\r).
    """
    first = True
    for raw in binary:
        for part in _AFTER_LONE_CR.split(raw):
            if part:
                yield decode_text(part, encoding, advice=advice, first=first)
                first = False


def utf8_lines(binary: Iterable[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 byte stream (`decoded_lines` in UTF-8)."""
    return decoded_lines(binary, "utf-8")


def _separator(header_line: str) -> str:
    """',' or ';', whichever the header line holds more of (column names hold neither)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


class CsvFormat:
    """What a CSV file was read as: filled in by `csv_rows` once the header is read."""

    def __init__(self, encoding: str | None = None) -> None:
        self.encoding = encoding
        self.separator: str | None = None


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """What the rows after the header need to be read: picklable, for a worker process."""

    kind: Kind
    separator: str
    header: tuple[str, ...]
    encoding: str | None  # the lines are bytes in this encoding; None: already text
    advice: str = ""


@dataclass(frozen=True, slots=True)
class LineChunk:
    """Whole CSV records as the file holds them: `lines` start at line `first_line`.

    `fatal`: the stream could not be read past these lines (a decoding error of a text
    stream): reported after them unless the lines themselves end the reading first."""

    first_line: int
    lines: list[str] | list[bytes]
    fatal: RowError | None = None


def _decode_message(exc: ValueError) -> str:
    if isinstance(exc, BadEncoding):
        return str(exc)
    return "not valid UTF-8 text (save the file as UTF-8)"


def _blank(fields: list[str]) -> bool:
    """A row of only empty cells: an empty line, or `;;;;` as Excel leaves at the end."""
    return not any(f.strip() for f in fields)


class CsvReading:
    """The records of CSV lines after the header → RawRow / RowError (one reader; the
    in-process path and a worker's chunk share it). `stopped`: the reading ended at an
    error that stops the file (a bad byte, a CSV syntax error)."""

    def __init__(self, layout: CsvLayout, line: int) -> None:
        self.layout = layout
        self.line = line  # the last line read (the header's, or the one before a chunk)
        self.stopped = False

    def rows(self, lines: Iterable[Any]) -> Rows:
        """`lines`: text, or bytes in the layout's encoding (decoded one at a time here)."""
        layout = self.layout
        text: Iterable[str]
        if layout.encoding is None:
            text = lines
        else:
            text = (
                decode_text(raw, layout.encoding, advice=layout.advice, first=False)
                for raw in lines
            )
        reader = csv.reader(text, delimiter=layout.separator, strict=True)
        header, width, before = layout.header, len(layout.header), self.line
        line = before
        try:
            for fields in reader:
                start = line + 1
                line = before + reader.line_num
                first = fields[0] if fields else ""
                if (not first or first.isspace()) and _blank(fields):
                    continue
                if len(fields) > width and _blank(fields[width:]):
                    fields = fields[:width]
                if len(fields) != width:
                    yield RowError(
                        start,
                        None,
                        "row",
                        f"{len(fields)} fields, the header has {width} "
                        f"(separator {layout.separator!r})",
                    )
                    continue
                yield RawRow(start, None, dict(zip(header, fields, strict=True)))
        except (BadEncoding, UnicodeDecodeError) as exc:
            self.stopped = True
            yield RowError(line + 1, None, "file", _decode_message(exc))
        except csv.Error as exc:
            self.stopped = True
            yield RowError(line + 1, None, "file", f"not a valid CSV: {exc}")
        finally:
            self.line = line


# Where a record ends, without parsing it: after a line, the csv module (strict, quote '"',
# no escape character, quotes doubled) is inside a quoted field — the record goes on — or
# not: the record ended with the line (or the line is bad CSV, which the reading reports at
# the same place). A line without a quote that starts a record always ends it.
_QUOTED = r'(?:[^"]|"")*+'  # the inside of a quoted field, up to its closing quote
_FIELD = r'(?:"{q}"|[^"{s}\r\n][^{s}\r\n]*+|)'  # quoted, unquoted (a quote inside is a char), empty
_OPEN_FROM_START = r'(?:{f}{s})*+"{q}'  # a record's line ends inside a quoted field
_OPEN_FROM_INSIDE = r'{q}(?:"{s}(?:{f}{s})*+"{q})?'  # a line that starts inside one does


def _open_patterns(separator: str) -> tuple[str, str]:
    s = re.escape(separator)
    field = _FIELD.format(q=_QUOTED, s=s)
    return (
        _OPEN_FROM_START.format(f=field, s=s, q=_QUOTED),
        _OPEN_FROM_INSIDE.format(f=field, s=s, q=_QUOTED),
    )


def record_chunks(
    layout: CsvLayout, lines: Iterator[Any], first_line: int, size: int
) -> Iterator[LineChunk]:
    """Cut lines (text, or bytes in `layout.encoding`) into chunks of `size` records,
    never inside one: each chunk reads alone exactly as it would in the whole file."""
    binary = layout.encoding is not None
    start_open, inside_open = (
        re.compile(p.encode("ascii") if binary else p).fullmatch
        for p in _open_patterns(layout.separator)
    )
    quote: Any = b'"' if binary else '"'
    closed = _one_quoted_field(layout.separator, binary)
    buf: list[Any] = []
    records = pending = 0  # pending: the lines of a record not ended yet
    try:
        for line in lines:
            buf.append(line)
            if pending:
                pending += 1
                if inside_open(line):
                    continue
                pending = 0
            elif quote in line and not closed(line) and start_open(line):
                pending = 1
                continue
            records += 1
            if records >= size:
                yield LineChunk(first_line, buf)
                first_line += len(buf)
                buf, records = [], 0
    except (BadEncoding, UnicodeDecodeError) as exc:  # a text stream's decoder
        keep = len(buf) - pending
        where = RowError(first_line + keep, None, "file", _decode_message(exc))
        yield LineChunk(first_line, buf[:keep], where)
        return
    if buf:
        yield LineChunk(first_line, buf)


def _one_quoted_field(separator: str, binary: bool) -> Callable[[Any], bool]:
    """A quick `not start_open(line)` for the usual line: exactly two quotes, the first
    starting a field, the second ending it (then only unquoted fields: the record ends)."""
    quote: Any = b'"' if binary else '"'
    starts: Any = (separator.encode(), b"") if binary else (separator, "")
    ends: Any = (separator.encode(), b"\r", b"\n", b"") if binary else (separator, "\r", "\n", "")

    def closed(line: Any) -> bool:
        if line.count(quote) != 2:
            return False
        first = line.index(quote)
        last = line.index(quote, first + 1)
        return line[first - 1 : first] in starts and line[last + 1 : last + 2] in ends

    return closed


def _split_lines(binary: Iterable[bytes]) -> Iterator[bytes]:
    """Byte lines ending as with newline="": \\n, \\r\\n or a lone \\r (`decoded_lines`)."""
    for raw in binary:
        if b"\r" in raw:
            yield from (part for part in _AFTER_LONE_CR.split(raw) if part)
        else:
            yield raw


def _decoded(raw: Iterator[bytes], encoding: str, advice: str) -> Iterator[str]:
    """Decode lines one at a time, pulling no line more than the reader asks for."""
    first = True
    for part in raw:
        yield decode_text(part, encoding, advice=advice, first=first)
        first = False


class OpenCsv:
    """A CSV whose header has been read: its layout, and the rest of its lines."""

    def __init__(self, layout: CsvLayout, lines: Iterator[Any], line: int) -> None:
        self.layout = layout
        self.lines = lines
        self.line = line  # the header's last line

    def rows(self) -> Rows:
        """The rows, read here (streaming)."""
        return CsvReading(self.layout, self.line).rows(self.lines)

    def chunks(self, size: int) -> Iterator[LineChunk]:
        """The rest of the file in chunks of `size` records, to be read by `CsvReading`
        anywhere (a worker process)."""
        return record_chunks(self.layout, self.lines, self.line + 1, size)


class CsvSource:
    """CSV rows: iterate for RawRow / RowError, or `open()` to read them in chunks.

    Header errors (or an empty file) are yielded, or returned by `open()`, and nothing else.
    """

    def __init__(self, kind: Kind, found: CsvFormat, advice: str = "") -> None:
        self.kind = kind
        self.format = found
        self.advice = advice

    def _lines(self) -> tuple[Iterator[str], Iterator[Any], str | None]:
        """(text lines from the start, the same lines undecoded, their encoding or None)."""
        raise NotImplementedError

    def __iter__(self) -> Rows:
        opened = self.open()
        if isinstance(opened, OpenCsv):
            return opened.rows()
        return iter(opened)

    def open(self) -> OpenCsv | list[RowError]:
        text, raw, encoding = self._lines()
        line = 0
        try:
            first = next(text, None)
            if first is None:
                return [RowError(1, None, "header", "the file is empty (a header row is required)")]
            separator = self.format.separator = _separator(first)
            reader = csv.reader(itertools.chain([first], text), delimiter=separator, strict=True)
            header = [h.strip().lstrip("\ufeff").strip().lower() for h in next(reader)]
            line = reader.line_num
        except (BadEncoding, UnicodeDecodeError) as exc:
            return [RowError(line + 1, None, "file", _decode_message(exc))]
        except csv.Error as exc:
            return [RowError(line + 1, None, "file", f"not a valid CSV: {exc}")]
        while len(header) > 1 and not header[-1]:
            header.pop()
        header_errors = check_header(self.kind, header)
        if header_errors:
            return [RowError(1, None, err.column, err.reason) for err in header_errors]
        layout = CsvLayout(self.kind, separator, tuple(header), encoding, self.advice)
        return OpenCsv(layout, raw, line)


class CsvFile(CsvSource):
    """The rows of a CSV byte stream in `encoding`, and, once read, the separator used.

        source = CsvFile(Kind.ACCOUNTS, stream, encoding="cp1251", advice="…")
        summary = await import_rows(uow, kind, source)   # the summary tells the format

    `advice` completes the message for bytes that are not UTF-8 but look like
    Windows-1251: how to import them through this interface (the command's option,
    the API's charset). Lines are decoded one at a time (`decoded_lines`), after the header
    by whoever reads them (a worker process, in chunks).
    """

    def __init__(
        self, kind: Kind, binary: Iterable[bytes], *, encoding: str = "utf-8", advice: str = ""
    ) -> None:
        super().__init__(kind, CsvFormat(canonical_encoding(encoding)), advice)
        self.binary = binary

    def _lines(self) -> tuple[Iterator[str], Iterator[Any], str | None]:
        assert self.format.encoding is not None
        raw = _split_lines(self.binary)
        return _decoded(raw, self.format.encoding, self.advice), raw, self.format.encoding


class _CsvText(CsvSource):
    def __init__(self, kind: Kind, stream: Iterable[str], found: CsvFormat) -> None:
        super().__init__(kind, found)
        self.stream = stream

    def _lines(self) -> tuple[Iterator[str], Iterator[Any], str | None]:
        lines = iter(self.stream)
        return lines, lines, None


def csv_rows(kind: Kind, stream: Iterable[str], *, found: CsvFormat | None = None) -> CsvSource:
    """Rows of CSV text lines: `decoded_lines(binary)`, or a text stream opened with
    newline="" and encoding="utf-8-sig". The separator, ',' or ';', is the one the header
    line uses (recorded in `found`). Rows of only empty cells are skipped; so are empty
    columns at the end of the header (Excel writes `a;b;c;;` for a formatted column) when
    the rows hold nothing there either."""
    return _CsvText(kind, stream, found or CsvFormat())


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
