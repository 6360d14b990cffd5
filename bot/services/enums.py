"""The vocabularies services and handlers share (defined beside the columns that store them)."""

from storage.enums import (
    CodePurpose,
    LinkMethod,
    LinkStatus,
    ReadingSource,
    ReadingStatus,
    TicketKind,
    TicketStatus,
)

__all__ = [
    "CodePurpose",
    "LinkMethod",
    "LinkStatus",
    "ReadingSource",
    "ReadingStatus",
    "TicketKind",
    "TicketStatus",
]
