"""Support conversations (issue 11): tickets, topics, the message map; SUPPORT_HOURS."""

from bot.services.support.hours import HoursError, SupportHours, parse_hours
from bot.services.support.service import (
    Answered,
    AnswerOutcome,
    CardAccount,
    Closed,
    CloseOutcome,
    Passed,
    PassOutcome,
    RateOutcome,
    ResidentCard,
    SupportService,
    TicketHeader,
    topic_title,
)

__all__ = [
    "AnswerOutcome",
    "Answered",
    "CardAccount",
    "CloseOutcome",
    "Closed",
    "HoursError",
    "PassOutcome",
    "Passed",
    "RateOutcome",
    "ResidentCard",
    "SupportHours",
    "SupportService",
    "TicketHeader",
    "parse_hours",
    "topic_title",
]
