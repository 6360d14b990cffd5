"""The data model (see ../shared/ARCHITECTURE.md, "Data model").

Money and readings are Numeric/Decimal. Every timestamp is stored and returned as an aware
UTC datetime (`UTCDateTime`), whichever database is underneath.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.enums import LinkStatus, ReadingSource, ReadingStatus, TicketStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: tables whose ids people see (request numbers, buttons) or the audit log records: SQLite
#: would hand the id of a deleted row out again («Заявка №7» twice), AUTOINCREMENT never does
#: (PostgreSQL's sequences never do anyway). See migration 0003.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}

MONEY = Numeric(14, 2)
READING = Numeric(18, 6)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------- residents
class User(TimestampMixin, Base):
    """A resident, keyed by Telegram id. Before consent only the id exists."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str | None] = mapped_column(String(8))
    first_name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consented_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    email: Mapped[str | None] = mapped_column(String(254))
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: meter-reading reminders wanted (Settings → Reminders)
    reading_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: when a message to the resident got 403 (blocked the bot); None while reachable
    inactive_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # --- staff: bans (migration 0007) ---
    #: when an operator banned the resident (None: not banned); nothing they send goes on
    banned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    banned_reason: Mapped[str | None] = mapped_column(Text)
    banned_by: Mapped[int | None] = mapped_column(BigInteger)  # the operator's Telegram id
    #: when the resident was told about the ban (told once, then silence)
    ban_told_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # --- end staff ---

    links: Mapped[list[AccountLink]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class FsmRecord(Base):
    """aiogram FSM state and data of one storage key (see storage/fsm.py)."""

    __tablename__ = "fsm_records"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------- billing
class Supplier(TimestampMixin, Base):
    __tablename__ = "suppliers"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    account_pattern: Mapped[str] = mapped_column(String(255))
    account_hint: Mapped[str] = mapped_column(String(255), default="")
    window_start_day: Mapped[int] = mapped_column(Integer, default=15)
    window_end_day: Mapped[int] = mapped_column(Integer, default=25)
    inn: Mapped[str] = mapped_column(String(12), default="")
    kpp: Mapped[str] = mapped_column(String(9), default="")
    bank_name: Mapped[str] = mapped_column(String(255), default="")
    bic: Mapped[str] = mapped_column(String(9), default="")
    corr_account: Mapped[str] = mapped_column(String(20), default="")
    settlement_account: Mapped[str] = mapped_column(String(20), default="")


class Account(TimestampMixin, Base):
    """A personal account (лицевой счёт) of a supplier."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("supplier_id", "number"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="RESTRICT"))
    number: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(512), default="")
    holder_name: Mapped[str] = mapped_column(String(255), default="")
    access_code_hash: Mapped[str | None] = mapped_column(String(255))
    # organisations (0008): the holder's ИНН (10 digits, 12 for an ИП), the branch's КПП and
    # the contract; None for a flat
    holder_inn: Mapped[str | None] = mapped_column(String(12), index=True)
    holder_kpp: Mapped[str | None] = mapped_column(String(9))
    contract_number: Mapped[str | None] = mapped_column(String(64))

    supplier: Mapped[Supplier] = relationship(lazy="joined")
    phones: Mapped[list[AccountPhone]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class AccountPhone(Base):
    """A phone on file for an account (E.164); indexed for 'accounts of this phone'."""

    __tablename__ = "account_phones"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class Charge(Base):
    __tablename__ = "charges"
    __table_args__ = (UniqueConstraint("account_id", "period", "service"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    service: Mapped[str] = mapped_column(String(128))
    charged: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY)


#: billing's key of a payment (account + date + amount), unique among billing's rows only:
#: a resident may pay the same sum twice a day in Telegram, and each has its own charge id
_BILLING_PAYMENT = text("telegram_charge_id IS NULL")


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index(
            "uq_payments_billing_key",
            "account_id",
            "paid_at",
            "amount",
            unique=True,
            sqlite_where=_BILLING_PAYMENT,
            postgresql_where=_BILLING_PAYMENT,
        ),
        # an account's payments, newest first: balance, receipts, history (0011)
        Index("ix_payments_account_paid", "account_id", "paid_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    paid_at: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    source: Mapped[str] = mapped_column(String(64), default="")
    #: Telegram Payments' telegram_payment_charge_id: a payment is stored once, however
    #: often Telegram delivers its successful_payment
    telegram_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: when the row was written here (NULL for rows older than the column): a Telegram
    #: payment recorded after the last charges import is not in billing's figures yet
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=utcnow)


class Meter(TimestampMixin, Base):
    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("account_id", "serial"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    serial: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(128))
    zones: Mapped[int] = mapped_column(Integer, default=1)
    digits: Mapped[int] = mapped_column(Integer, default=5)
    decimals: Mapped[int] = mapped_column(Integer, default=3)
    verification_due: Mapped[dt.date | None] = mapped_column(Date)


class Reading(Base):
    __tablename__ = "readings"
    __table_args__ = (
        Index("ix_readings_meter_period", "meter_id", "period"),
        Index("ix_readings_period_status", "period", "status"),  # export of a period
        # one submission (Send) stores a meter's zone once, however often it is delivered
        UniqueConstraint("batch", "meter_id", "zone"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    zone: Mapped[int] = mapped_column(Integer, default=1)
    value: Mapped[Decimal] = mapped_column(READING)
    period: Mapped[str] = mapped_column(String(7))
    taken_on: Mapped[dt.date | None] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str] = mapped_column(String(16), default=ReadingSource.BOT.value)
    status: Mapped[str] = mapped_column(String(16), default=ReadingStatus.ACCEPTED.value)
    #: the idempotency key of the submission (a resident's Send), None for billing rows
    batch: Mapped[str | None] = mapped_column(String(32))
    photo_file_id: Mapped[str | None] = mapped_column(String(255))
    #: consumption since the last accepted reading (across a rollover when `rolled_over`)
    consumption: Mapped[Decimal | None] = mapped_column(READING)
    rolled_over: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: why it waits for an operator: "spike" (vs the usual) or "ceiling" (vs the service's)
    flag: Mapped[str | None] = mapped_column(String(16))
    #: the reading this one corrects (that one's status is "corrected")
    corrects_id: Mapped[int | None] = mapped_column(
        ForeignKey("readings.id", ondelete="SET NULL"), index=True
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(BigInteger)  # operator's Telegram id
    decided_by_name: Mapped[str | None] = mapped_column(String(255))


# --------------------------------------------------------------------------- linking


class AccountLink(TimestampMixin, Base):
    """A resident ↔ account link; one row per pair, verified on its own."""

    __tablename__ = "account_links"
    __table_args__ = (UniqueConstraint("user_id", "account_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=LinkStatus.PENDING.value)
    method: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(BigInteger)  # operator's Telegram id
    decided_by_name: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    request_name: Mapped[str | None] = mapped_column(String(255))
    request_address: Mapped[str | None] = mapped_column(String(512))
    request_photo_file_id: Mapped[str | None] = mapped_column(String(255))
    # organisations (0008): a representative's link (None for a resident's own account)
    representative_id: Mapped[int | None] = mapped_column(
        ForeignKey("representatives.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str | None] = mapped_column(String(16))  # RepresentativeRole

    user: Mapped[User] = relationship(back_populates="links")
    account: Mapped[Account] = relationship(lazy="joined")


class ConfirmationCode(Base):
    """A one-time code: only its hash is stored."""

    __tablename__ = "confirmation_codes"
    __table_args__ = (
        Index("ix_confirmation_codes_target_created", "target", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(254))  # a phone (E.164) or an e-mail address
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str | None] = mapped_column(String(64))  # e.g. the account id being linked
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# --------------------------------------------------------------------------- staff desk


class Ticket(TimestampMixin, Base):
    """An escalation shown in the staff chat (a card, possibly in its own topic)."""

    __tablename__ = "tickets"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN.value)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_links.id", ondelete="SET NULL"), index=True
    )
    reading_id: Mapped[int | None] = mapped_column(
        ForeignKey("readings.id", ondelete="SET NULL"), index=True
    )
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # support conversations (kind "question", migration 0006): the resident's rating 1–5
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class TicketMessage(Base):
    """Maps a message in the staff chat to the resident's message it mirrors."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_staff", "staff_chat_id", "staff_message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    staff_chat_id: Mapped[int] = mapped_column(BigInteger)
    staff_message_id: Mapped[int] = mapped_column(BigInteger)
    user_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    user_message_id: Mapped[int | None] = mapped_column(BigInteger)
    direction: Mapped[str] = mapped_column(String(8))  # "in" (resident → staff) | "out"
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --------------------------------------------------------------------------- support topics


class SupportTopic(Base):
    """The resident's topic in a forum staff chat: created once, recreated when it is gone."""

    __tablename__ = "support_topics"
    __table_args__ = (Index("ix_support_topics_thread", "staff_chat_id", "thread_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    staff_chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    thread_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor_action_at", "actor_id", "action", "at"),
        # the balance's "figures as of" (the last charges import): a lookup, not a scan
        Index("ix_audit_log_action_object_at", "action", "object_id", "at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(16))  # resident | operator | system | api
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --------------------------------------------------------------------------- reminders


class ReminderLog(Base):
    """One meter-reading reminder of a window: queued, then sent (or why not).

    Unique per resident, account, period and kind, so a restart never sends one twice and
    a queued one is sent after the restart.
    """

    __tablename__ = "reminder_log"
    __table_args__ = (
        UniqueConstraint("user_id", "account_id", "period", "kind"),
        Index("ix_reminder_log_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SchedulerLock(Base):
    """A lease: the one instance that may run a scheduled job (when Redis is not used)."""

    __tablename__ = "scheduler_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --------------------------------------------------------------------------- staff: notices


class Notice(Base):
    """A notice of a supplier to its residents (/notice), with its outcome.

    draft → sending → done (or cancelled); the counts are kept as it goes, so a restart
    resumes it without sending anything twice (see NoticeRecipient).
    """

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status", "status"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(BigInteger)  # the operator's Telegram id
    created_by_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_by: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    staff_chat_id: Mapped[int] = mapped_column(BigInteger)
    staff_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class NoticeRecipient(Base):
    """One resident of a notice: queued → sending → sent | blocked | failed.

    A row handed to the sender is marked `sending` (committed) first: after a crash it is
    not sent again (at most once), the queued ones are sent on resume.
    """

    __tablename__ = "notice_recipients"
    __table_args__ = (Index("ix_notice_recipients_notice_status", "notice_id", "status"),)

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))


# --------------------------------------------------------------------------- organisations (0008)


class Representative(TimestampMixin, Base):
    """A resident acting for an organisation (ИНН/КПП, a contract or account), proved by a
    power of attorney that an operator checked; each representative verified on their own.

    Approved, it gets a role and an `AccountLink` (with `representative_id` and the role) for
    each account of the organisation the request named; revoked, those links go.
    """

    __tablename__ = "representatives"
    __table_args__ = (Index("ix_representatives_inn", "holder_inn"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    holder_inn: Mapped[str] = mapped_column(String(12))
    holder_kpp: Mapped[str | None] = mapped_column(String(9))
    #: the contract or account number the representative gave (as stored)
    reference: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # RepresentativeStatus
    role: Mapped[str | None] = mapped_column(String(16))  # RepresentativeRole once approved
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[str] = mapped_column(String(255))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_name: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    #: the messages of the power of attorney's pages under the card (erased with it, 152-ФЗ)
    staff_page_ids: Mapped[list[int] | None] = mapped_column(JSON)

    user: Mapped[User] = relationship(lazy="joined")
    documents: Mapped[list[RepresentativeDocument]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
        order_by="RepresentativeDocument.position",
    )


class RepresentativeDocument(Base):
    """One page of a power of attorney: a Telegram file (a PDF or an image), kept by id."""

    __tablename__ = "representative_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    representative_id: Mapped[int] = mapped_column(
        ForeignKey("representatives.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # "document" | "photo"
    file_id: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(127))
    size: Mapped[int | None] = mapped_column(Integer)


# --------------------------------------------------------------------------- production (prod)
class ProcessedUpdate(Base):
    """An update_id handled (or being handled): Telegram's re-deliveries are answered once.

    Inserted inside the update's own transaction (storage/once.py), so the mark and the
    update's effects commit — or vanish after a crash — together. Purged after
    PROCESSED_UPDATES_KEEP_HOURS.
    """

    __tablename__ = "processed_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
