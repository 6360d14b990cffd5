"""Billing data in and out: CSV/JSON imports, the readings export (see README.md, "Billing data").

    async with UnitOfWork(db.session_maker) as uow:
        summary = await import_rows(uow, Kind.ACCOUNTS, CsvFile(Kind.ACCOUNTS, binary_stream))

`import_rows` raises `ImportRejected` (the `async with` then rolls back) or returns an
`ImportSummary` (the `async with` commits).
"""

from bot.services.billing.export import (
    EXPORT_COLUMNS,
    ExportError,
    accepted_readings,
    check_period,
    csv_chunks,
)
from bot.services.billing.formats import COLUMNS, Kind, column_names
from bot.services.billing.importer import (
    MAX_REPORTED_ERRORS,
    ImportRejected,
    ImportSummary,
    UnknownKind,
    import_rows,
    parse_kind,
)
from bot.services.billing.sources import (
    ENCODINGS,
    SEPARATORS,
    BadEncoding,
    CsvFile,
    RawRow,
    RowError,
    UnknownEncoding,
    canonical_encoding,
    csv_rows,
    decode_text,
    json_rows,
    utf8_lines,
)

__all__ = [
    "COLUMNS",
    "ENCODINGS",
    "EXPORT_COLUMNS",
    "MAX_REPORTED_ERRORS",
    "SEPARATORS",
    "BadEncoding",
    "CsvFile",
    "ExportError",
    "ImportRejected",
    "ImportSummary",
    "Kind",
    "RawRow",
    "RowError",
    "UnknownEncoding",
    "UnknownKind",
    "accepted_readings",
    "canonical_encoding",
    "check_period",
    "column_names",
    "csv_chunks",
    "csv_rows",
    "decode_text",
    "import_rows",
    "json_rows",
    "parse_kind",
    "utf8_lines",
]
