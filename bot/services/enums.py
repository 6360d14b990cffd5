"""The vocabularies services and handlers share (defined beside the columns that store them)."""

from storage.enums import (
    CodePurpose,
    LinkMethod,
    LinkStatus,
    ReadingSource,
    ReadingStatus,
    ReminderKind,
    ReminderStatus,
    RepresentativeRole,
    RepresentativeStatus,
    TicketKind,
    TicketStatus,
)

__all__ = [
    "CodePurpose",
    "LinkMethod",
    "LinkStatus",
    "ReadingSource",
    "ReadingStatus",
    "ReminderKind",
    "ReminderStatus",
    "RepresentativeRole",
    "RepresentativeStatus",
    "TicketKind",
    "TicketStatus",
]
