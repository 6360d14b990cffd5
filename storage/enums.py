"""The stored vocabularies (StrEnum values are what the columns hold).

They live outside storage/models.py so that services and handlers can speak of a link's
status or a reading's source without importing the ORM (bot/services/enums.py re-exports
them for the layers above).
"""

import enum


class ReadingSource(enum.StrEnum):
    BILLING = "billing"
    BOT = "bot"
    OPERATOR = "operator"
    API = "api"


class ReadingStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    PENDING = "pending"  # waits for an operator (suspicious)
    REJECTED = "rejected"
    CORRECTED = "corrected"  # replaced by the resident's correction (kept for the history)


class ReminderKind(enum.StrEnum):
    """Which reminder of a reading window."""

    START = "start"  # the window opened
    END = "end"  # two days before it closes


class ReminderStatus(enum.StrEnum):
    QUEUED = "queued"  # due, not sent yet (a restart sends it)
    SENDING = "sending"  # handed to the sender (after a crash: not sent again)
    SENT = "sent"
    BLOCKED = "blocked"  # the resident blocked the bot (403)
    FAILED = "failed"  # Telegram refused it otherwise
    SKIPPED = "skipped"  # no longer due when its turn came (sent readings, opted out…)


class LinkStatus(enum.StrEnum):
    PENDING = "pending"  # waits for an operator
    ACTIVE = "active"
    REJECTED = "rejected"


class LinkMethod(enum.StrEnum):
    PHONE = "phone"
    ACCESS_CODE = "access_code"
    SMS_CODE = "sms_code"
    OPERATOR = "operator"
    POWER_OF_ATTORNEY = "power_of_attorney"  # a representative of an organisation (0008)


class CodePurpose(enum.StrEnum):
    LINK_SMS = "link_sms"
    EMAIL_VERIFY = "email_verify"


class TicketKind(enum.StrEnum):
    LINK = "link"
    READING = "reading"
    QUESTION = "question"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


# --- staff: notices ---
class NoticeStatus(enum.StrEnum):
    DRAFT = "draft"  # previewed, waits for Send / Cancel
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class RecipientStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # handed to the sender (after a crash: not sent again)
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"


# --------------------------------------------------------------------------- organisations (0008)
class RepresentativeRole(enum.StrEnum):
    """What a representative of an organisation may do with its accounts."""

    MANAGER = "manager"  # everything a resident can do
    ACCOUNTANT = "accountant"  # balance, receipts and history only


class RepresentativeStatus(enum.StrEnum):
    PENDING = "pending"  # the power of attorney waits for an operator
    ACTIVE = "active"
    REJECTED = "rejected"
    REVOKED = "revoked"  # an operator withdrew the right (its account links are gone)
    WITHDRAWN = "withdrawn"  # the resident withdrew the pending request (never decided)
