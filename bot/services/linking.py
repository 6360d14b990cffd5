"""Linking personal accounts (лицевой счёт) to residents: every rule, no Telegram.

A resident proves an account is theirs before anything about it is shown. Routes, tried
in this order (see README.md, "Linking personal accounts"):

1. the phone the resident shared is on file for the account → linked at once;
2. the receipt access code (``Account.access_code_hash``);
3. a one-time SMS code sent to the phone on file (``bot.services.codes``);
4. an operator decides in the staff chat (name, address, optional photo of a receipt).

Existence is not revealed by the number alone: after a well-formed number that is not
proven by the resident's phone, every resident sees the same menu of routes, and a wrong
access code for a missing account answers exactly like a wrong code for an existing one.
The SMS and operator routes do tell "nothing to send a code to" / "no such account", and
every such negative answer costs one of the resident's daily attempts (as does every wrong
access code or SMS code): at most ``limit`` per Moscow calendar day, then linking is locked
until the next day.

Everything is audited (links, unlinks, requests, decisions, failures); codes and full
phones never go into the audit details.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cache

from bot.integrations import DeliveryError, SmsGateway
from bot.services import codes
from bot.services.clock import Clock
from bot.services.codes import CodesService
from bot.services.enums import (
    CodePurpose,
    LinkMethod,
    LinkStatus,
    TicketKind,
)
from bot.services.hashing import hash_secret, verify_secret
from bot.services.phones import mask_phone
from bot.services.ports import (
    Delivery,
    DeskUnavailable,
    PostedCard,
    ResidentNotifier,
    StaffDesk,
)
from bot.services.textnorm import compact_number, compile_account_pattern, normalize_access_code
from storage.models import Account, AccountLink, Supplier
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.linking")

# audit actions
LINKED = "account_linked"
UNLINKED = "account_unlinked"
REQUESTED = "link_requested"
DECIDED = "link_decided"
SMS_DELIVERY_FAILED = "link_sms_delivery_failed"
FAILED_ACCESS_CODE = "link_access_code_failed"
FAILED_LOOKUP = "link_lookup_failed"
FAILED_SMS_CODE = "link_sms_code_failed"
#: what counts against Settings.link_attempts_per_day
FAILED_ACTIONS = (FAILED_ACCESS_CODE, FAILED_LOOKUP, FAILED_SMS_CODE)

#: preset reasons an operator may pick when rejecting (stored as "preset:<code>")
REJECT_PRESETS = ("mismatch", "no_proof", "unreadable")
#: requests a resident may have waiting for operators at once (keeps the staff chat usable)
MAX_PENDING_REQUESTS = 3
PRESET_PREFIX = "preset:"

MAX_NUMBER_LENGTH = 32
MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 255
MAX_ADDRESS_LENGTH = 512
MAX_REASON_LENGTH = 1000


class Outcome(enum.StrEnum):
    LINKED = "linked"  # the link is active now
    ALREADY_LINKED = "already_linked"
    ALREADY_PENDING = "already_pending"  # waits for an operator already
    CHOOSE_ROUTE = "choose_route"  # the same answer for every other well-formed number
    BAD_FORMAT = "bad_format"  # not counted as an attempt
    LOCKED = "locked"  # too many failed attempts today
    WRONG_CODE = "wrong_code"  # the access code did not match (counted)
    NOT_FOUND = "not_found"  # SMS/operator route: nothing to use for this number (counted)
    CODE_SENT = "code_sent"
    RESEND_TOO_SOON = "resend_too_soon"
    TOO_MANY_CODES = "too_many_codes"
    DELIVERY_FAILED = "delivery_failed"
    CODE_REJECTED = "code_rejected"  # see .problem / .attempts_left
    REQUEST_OPEN = "request_open"  # the operator route may go on
    TOO_MANY_REQUESTS = "too_many_requests"  # MAX_PENDING_REQUESTS already wait
    UNAVAILABLE = "unavailable"  # forged or stale: nothing the presser may act on


@dataclass(frozen=True)
class SupplierInfo:
    id: int
    name: str
    hint: str


@dataclass(frozen=True)
class AccountInfo:
    id: int
    supplier_name: str
    number: str
    address: str


@dataclass(frozen=True)
class LinkView:
    link_id: int
    account_id: int
    supplier_name: str
    number: str
    status: LinkStatus
    address: str | None  # shown only once the link is active
    reason: str | None
    #: a representative's link (issue 14): the organisation's name and ИНН on file, the role
    org_name: str | None = None
    org_inn: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class LinkResult:
    outcome: Outcome
    number: str | None = None
    account: AccountInfo | None = None
    unlock_at: dt.datetime | None = None
    attempts_left: int | None = None
    masked_phone: str | None = None
    wait_seconds: int | None = None
    retry_at: dt.datetime | None = None
    problem: codes.CodeProblem | None = None


@dataclass(frozen=True)
class LinkCard:
    """What the staff card of an operator request shows."""

    link_id: int
    user_id: int
    status: LinkStatus
    name: str
    masked_phone: str
    supplier_name: str
    number: str
    address_given: str
    address_on_file: str
    holder_on_file: str
    phones_on_file: tuple[str, ...]  # masked
    other_residents: int  # active links of other residents to this account
    photo_file_id: str | None
    decided_by_name: str | None = None
    decided_at: dt.datetime | None = None
    reason: str | None = None
    staff_chat_id: int | None = None
    staff_message_id: int | None = None


class DecisionOutcome(enum.StrEnum):
    DECIDED = "decided"  # this operator's decision won
    ALREADY_DECIDED = "already_decided"  # someone else decided first
    WITHDRAWN = "withdrawn"  # the resident withdrew the request (or erased their data)


@dataclass(frozen=True)
class Decision:
    outcome: DecisionOutcome
    card: LinkCard | None = None
    resident_id: int | None = None
    resident_language: str | None = None
    account: AccountInfo | None = None
    delivery: Delivery | None = None  # whether the resident was told (DECIDED only)


@dataclass(frozen=True)
class UnlinkResult:
    ok: bool
    view: LinkView | None = None


class SubmitOutcome(enum.StrEnum):
    SUBMITTED = "submitted"  # pending, its card is in the staff chat
    DESK_DISABLED = "desk_disabled"  # no staff chat configured
    DESK_FAILED = "desk_failed"  # the card could not be posted: nothing was kept
    UNAVAILABLE = "unavailable"  # no such account, or linked meanwhile


@dataclass(frozen=True)
class Submitted:
    outcome: SubmitOutcome
    link_id: int | None = None


# --------------------------------------------------------------------------- helpers
@cache
def _dummy_hash() -> str:
    """A hash to check against when there is no account, so both cases take the same time."""
    return hash_secret("no-such-access-code")


def day_bounds(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The Moscow calendar day of `moment` and the start of the next one, in UTC."""
    return codes.day_bounds(moment)


def normalize_number(pattern: str, raw: str | None) -> str | None:
    """The account number as stored (ASCII digits of any script, no spaces or dashes:
    `textnorm.compact_number`), or None when it does not match the supplier's pattern
    (matched with ASCII semantics, so `\\d` is 0-9 only)."""
    number = compact_number(raw or "")
    if not number or len(number) > MAX_NUMBER_LENGTH:
        return None
    try:
        matched = compile_account_pattern(pattern).fullmatch(number)
    except re.error:
        log.error("supplier account pattern %r is not a valid regular expression", pattern)
        return None
    return number if matched else None


def clean_request_name(raw: str | None) -> str | None:
    """The full name a resident gives an operator, stripped; None when it is not one: empty,
    over MAX_NAME_LENGTH characters, or fewer than two letters (emoji, digits, a dash)."""
    name = (raw or "").strip()
    if len(name) > MAX_NAME_LENGTH or sum(ch.isalpha() for ch in name) < 2:
        return None
    return name


def clean_request_address(raw: str | None) -> str | None:
    """The address a resident gives an operator, stripped; None when empty or over
    MAX_ADDRESS_LENGTH characters."""
    address = (raw or "").strip()
    return address if address and len(address) <= MAX_ADDRESS_LENGTH else None


def _account_info(account: Account) -> AccountInfo:
    return AccountInfo(
        id=account.id,
        supplier_name=account.supplier.name,
        number=account.number,
        address=account.address,
    )


def _supplier_info(supplier: Supplier) -> SupplierInfo:
    return SupplierInfo(id=supplier.id, name=supplier.name, hint=supplier.account_hint)


def _activate(link: AccountLink, method: LinkMethod, now: dt.datetime) -> None:
    link.status = LinkStatus.ACTIVE.value
    link.method = method.value
    link.decided_at = now
    link.decided_by = None
    link.decided_by_name = None
    link.reason = None


# --------------------------------------------------------------------------- reading
# --------------------------------------------------------------------------- by phone
# --------------------------------------------------------------------------- the conversation
# --------------------------------------------------------------------------- unlinking


class LinkingService:
    """The linking use cases of one update (built per update by ServicesMiddleware).

    `limit` is Settings.link_attempts_per_day; `sms` delivers SMS codes; `desk` shows
    requests to operators (None when STAFF_CHAT_ID is unset); `notifier` tells residents
    the decisions. Methods return plain dataclasses; no ORM row leaves the service.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        limit: int,
        code_ttl_minutes: int,
        sms: SmsGateway,
        desk: StaffDesk | None,
        notifier: ResidentNotifier,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.limit = limit
        self.code_ttl_minutes = code_ttl_minutes
        self.sms = sms
        self.desk = desk
        self.notifier = notifier
        self.codes = CodesService(uow, clock, ttl_minutes=code_ttl_minutes)

    def _audit(
        self,
        action: str,
        *,
        user_id: int,
        object_type: str = "account",
        object_id: int | str | None = None,
        actor_kind: str = "resident",
        **details: object,
    ) -> None:
        self.uow.audit.add(
            action,
            actor_kind=actor_kind,
            actor_id=user_id,
            object_type=object_type,
            object_id=object_id,
            details=dict(details),
            at=self.clock.now(),
        )

    async def _failed_today(self, user_id: int) -> int:
        start, _ = day_bounds(self.clock.now())
        return await self.uow.audit.count(actor_id=user_id, actions=FAILED_ACTIONS, since=start)

    async def _lockout(self, user_id: int) -> LinkResult | None:
        """The LOCKED answer while linking is paused for this resident, else None."""
        unlock = await self.locked_until(user_id)
        return LinkResult(Outcome.LOCKED, unlock_at=unlock) if unlock is not None else None

    async def locked_until(self, user_id: int) -> dt.datetime | None:
        """When linking unlocks for this resident (UTC), or None when it is not locked."""
        if await self._failed_today(user_id) >= self.limit:
            return day_bounds(self.clock.now())[1]
        return None

    async def _count_failure(
        self,
        action: str,
        *,
        user_id: int,
        supplier_id: int,
        number: str,
    ) -> tuple[int, dt.datetime | None]:
        """Audit one failed attempt; return (attempts left today, unlock time if now locked)."""
        self._audit(
            action,
            user_id=user_id,
            object_type="supplier",
            object_id=supplier_id,
            number=number,
        )
        await self.uow.session.flush()
        left = max(0, self.limit - await self._failed_today(user_id))
        return left, (day_bounds(self.clock.now())[1] if left == 0 else None)

    async def _link_now(self, *, user_id: int, account: Account, method: LinkMethod) -> LinkResult:
        repo = self.uow.links
        link = await repo.upsert_link(user_id, account.id)
        _activate(link, method, self.clock.now())
        await self.uow.session.flush()
        self._audit(LINKED, user_id=user_id, object_id=account.id, method=method.value)
        return LinkResult(Outcome.LINKED, number=account.number, account=_account_info(account))

    async def _resident_phone(self, user_id: int) -> str | None:
        user = await self.uow.users.get(user_id)
        return user.phone if user else None

    async def suppliers(self) -> list[SupplierInfo]:
        return [_supplier_info(s) for s in await self.uow.links.suppliers()]

    async def supplier(self, supplier_id: int) -> SupplierInfo | None:
        found = await self.uow.links.supplier(supplier_id)
        return _supplier_info(found) if found else None

    async def my_links(self, user_id: int) -> list[LinkView]:
        """The resident's links: active ones with the address, pending and rejected without."""
        views = []
        for link in await self.uow.links.links_of_user(user_id):
            status = LinkStatus(link.status)
            views.append(
                LinkView(
                    link_id=link.id,
                    account_id=link.account_id,
                    supplier_name=link.account.supplier.name,
                    number=link.account.number,
                    status=status,
                    address=link.account.address if status is LinkStatus.ACTIVE else None,
                    reason=link.reason if status is LinkStatus.REJECTED else None,
                    org_name=link.account.holder_name if link.role else None,
                    org_inn=link.account.holder_inn if link.role else None,
                    role=link.role,
                )
            )
        order = {LinkStatus.ACTIVE: 0, LinkStatus.PENDING: 1, LinkStatus.REJECTED: 2}
        # an organisation's accounts together, after the resident's own (issue 14)
        return sorted(views, key=lambda v: (v.org_inn or "", order[v.status], v.link_id))

    async def link_view(self, user_id: int, account_id: int) -> LinkView | None:
        """The resident's own link to this account (None for anyone else's: forged buttons)."""
        for view in await self.my_links(user_id):
            if view.account_id == account_id:
                return view
        return None

    async def active_account_ids(self, user_id: int) -> list[int]:
        """Accounts this resident may see (for other features: balance, readings)."""
        return [account.id for account in await self.active_accounts(user_id)]

    async def active_accounts(self, user_id: int) -> list[AccountInfo]:
        """The accounts this resident may see, in the order they were linked (the account
        picker of balance and readings)."""
        return [AccountInfo(*row) for row in await self.uow.links.active_accounts_of(user_id)]

    async def active_account(self, user_id: int, account_id: int) -> AccountInfo | None:
        """The account if this resident has an active link to it (forged buttons: None)."""
        for account in await self.active_accounts(user_id):
            if account.id == account_id:
                return account
        return None

    async def suggest_by_phone(self, user_id: int, phone: str) -> list[AccountInfo]:
        """Accounts with this phone on file that the resident has not linked or requested yet."""
        repo = self.uow.links
        mine = {link.account_id: link.status for link in await repo.links_of_user(user_id)}
        return [
            _account_info(account)
            for account in await repo.accounts_by_phone(phone)
            if mine.get(account.id) not in (LinkStatus.ACTIVE.value, LinkStatus.PENDING.value)
        ]

    async def link_by_phone(self, *, user_id: int, account_id: int) -> LinkResult:
        """One tap on a suggested account: re-checked, the resident's phone must be on file."""
        repo = self.uow.links
        account = await repo.account(account_id)
        phone = await self._resident_phone(user_id)
        if account is None or not phone or not await repo.phone_on_file(account.id, phone):
            return LinkResult(Outcome.UNAVAILABLE)
        link = await repo.link_of(user_id, account.id)
        if link is not None and link.status == LinkStatus.ACTIVE.value:
            return LinkResult(
                Outcome.ALREADY_LINKED, number=account.number, account=_account_info(account)
            )
        return await self._link_now(user_id=user_id, account=account, method=LinkMethod.PHONE)

    async def _known_link(self, user_id: int, account: Account, number: str) -> LinkResult | None:
        """The resident's own link to this account already decides the answer, if any."""
        link = await self.uow.links.link_of(user_id, account.id)
        if link is not None and link.status == LinkStatus.ACTIVE.value:
            return LinkResult(Outcome.ALREADY_LINKED, number=number, account=_account_info(account))
        if link is not None and link.status == LinkStatus.PENDING.value:
            return LinkResult(Outcome.ALREADY_PENDING, number=number)
        return None

    async def start(
        self,
        *,
        user_id: int,
        supplier_id: int,
        raw_number: str,
    ) -> LinkResult:
        """The resident typed an account number: check its format, then the phone route."""
        if (locked := await self._lockout(user_id)) is not None:
            return locked
        repo = self.uow.links
        found_supplier = await repo.supplier(supplier_id)
        if found_supplier is None:
            return LinkResult(Outcome.UNAVAILABLE)
        number = normalize_number(found_supplier.account_pattern, raw_number)
        if number is None:
            return LinkResult(Outcome.BAD_FORMAT)
        account = await repo.find_account(supplier_id, number)
        if account is not None:
            known = await self._known_link(user_id, account, number)
            if known is not None:
                return known
            phone = await self._resident_phone(user_id)
            if phone and await repo.phone_on_file(account.id, phone):
                return await self._link_now(
                    user_id=user_id, account=account, method=LinkMethod.PHONE
                )
        return LinkResult(Outcome.CHOOSE_ROUTE, number=number)

    async def enter_access_code(
        self,
        *,
        user_id: int,
        supplier_id: int,
        number: str,
        code: str,
    ) -> LinkResult:
        """The receipt access code; a missing account or code answers like a wrong code."""
        if (locked := await self._lockout(user_id)) is not None:
            return locked
        account = await self.uow.links.find_account(supplier_id, number)
        stored = account.access_code_hash if account is not None else None
        typed = (code or "").strip()
        # the normal form first (Cyrillic look-alikes, either case, any digits: the form the
        # import hashes); the code as typed for hashes made before imports normalised
        candidates = dict.fromkeys(
            c[:MAX_CODE_LENGTH]
            for c in (normalize_access_code(typed), typed, "".join(typed.split()))
            if c
        )
        matched = False
        for candidate in candidates:
            # always one scrypt at least, so a missing account takes as long as a wrong code
            if verify_secret(candidate, stored or _dummy_hash()) and stored:
                matched = True
                break
        if matched and account is not None:
            return await self._link_now(
                user_id=user_id, account=account, method=LinkMethod.ACCESS_CODE
            )
        left, unlock = await self._count_failure(
            FAILED_ACCESS_CODE,
            user_id=user_id,
            supplier_id=supplier_id,
            number=number,
        )
        if unlock is not None:
            return LinkResult(Outcome.LOCKED, unlock_at=unlock, attempts_left=0)
        return LinkResult(Outcome.WRONG_CODE, attempts_left=left)

    async def _sms_target(self, supplier_id: int, number: str) -> tuple[Account, str] | None:
        repo = self.uow.links
        account = await repo.find_account(supplier_id, number)
        if account is None:
            return None
        phones = await repo.phones_of(account.id)
        return (account, phones[0]) if phones else None

    async def send_sms_code(
        self,
        *,
        user_id: int,
        supplier_id: int,
        number: str,
        text_template: str,
    ) -> LinkResult:
        """Send a one-time code to the (first) phone on file for the account.

        `text_template` is the SMS in the resident's language with `{code}` and `{number}`.
        The code is committed before the SMS goes out; a failed delivery discards it.
        """
        if (locked := await self._lockout(user_id)) is not None:
            return locked
        target = await self._sms_target(supplier_id, number)
        if target is None:
            left, unlock = await self._count_failure(
                FAILED_LOOKUP,
                user_id=user_id,
                supplier_id=supplier_id,
                number=number,
            )
            return LinkResult(Outcome.NOT_FOUND, attempts_left=left, unlock_at=unlock)
        account, phone = target
        try:
            issued = await self.codes.issue(
                purpose=CodePurpose.LINK_SMS,
                target=phone,
                user_id=user_id,
                subject=str(account.id),
            )
        except codes.ResendTooSoon as exc:
            return LinkResult(Outcome.RESEND_TOO_SOON, wait_seconds=exc.wait_seconds)
        except codes.TooManyCodes as exc:
            return LinkResult(Outcome.TOO_MANY_CODES, retry_at=exc.retry_at)
        await self.uow.commit()  # named point: the code is durable before the SMS leaves
        try:
            await self.sms.send_sms(
                phone, text_template.format(code=issued.code, number=account.number)
            )
        except DeliveryError:
            log.warning("SMS with a linking code to account %s could not be delivered", account.id)
            await self.codes.discard(issued.id)
            self._audit(SMS_DELIVERY_FAILED, user_id=user_id, object_id=account.id)
            return LinkResult(Outcome.DELIVERY_FAILED)
        return LinkResult(Outcome.CODE_SENT, masked_phone=mask_phone(phone), number=number)

    async def sms_wait_seconds(self, supplier_id: int, number: str) -> int:
        """Seconds until a new SMS code may go to this account's phone (0: now). A quick
        check before the slow send, so a press can be answered at once."""
        target = await self._sms_target(supplier_id, number)
        if target is None:
            return 0
        account, phone = target
        return await self.codes.seconds_until_resend(
            purpose=CodePurpose.LINK_SMS, target=phone, subject=str(account.id)
        )

    async def enter_sms_code(
        self,
        *,
        user_id: int,
        supplier_id: int,
        number: str,
        code: str,
    ) -> LinkResult:
        """Check the SMS code; CodeRejected never escapes (the attempt counter must commit)."""
        if (locked := await self._lockout(user_id)) is not None:
            return locked
        target = await self._sms_target(supplier_id, number)
        if target is None:
            return LinkResult(Outcome.CODE_REJECTED, problem=codes.CodeProblem.MISSING)
        account, phone = target
        try:
            await self.codes.verify(
                purpose=CodePurpose.LINK_SMS,
                target=phone,
                user_id=user_id,
                subject=str(account.id),
                code=code,
            )
        except codes.CodeRejected as exc:
            if exc.problem in (codes.CodeProblem.WRONG, codes.CodeProblem.EXHAUSTED):
                _, unlock = await self._count_failure(
                    FAILED_SMS_CODE,
                    user_id=user_id,
                    supplier_id=supplier_id,
                    number=number,
                )
                if unlock is not None:
                    return LinkResult(Outcome.LOCKED, unlock_at=unlock)
            return LinkResult(
                Outcome.CODE_REJECTED, problem=exc.problem, attempts_left=exc.attempts_left
            )
        return await self._link_now(user_id=user_id, account=account, method=LinkMethod.SMS_CODE)

    async def open_operator_request(
        self,
        *,
        user_id: int,
        supplier_id: int,
        number: str,
    ) -> LinkResult:
        """The resident asks an operator: only for an account that exists (else counted)."""
        if (locked := await self._lockout(user_id)) is not None:
            return locked
        repo = self.uow.links
        account = await repo.find_account(supplier_id, number)
        if account is None:
            left, unlock = await self._count_failure(
                FAILED_LOOKUP,
                user_id=user_id,
                supplier_id=supplier_id,
                number=number,
            )
            return LinkResult(Outcome.NOT_FOUND, attempts_left=left, unlock_at=unlock)
        known = await self._known_link(user_id, account, number)
        if known is not None:
            return known
        pending = [
            other
            for other in await repo.links_of_user(user_id)
            if other.status == LinkStatus.PENDING.value
        ]
        if len(pending) >= MAX_PENDING_REQUESTS:
            return LinkResult(Outcome.TOO_MANY_REQUESTS, number=number)
        return LinkResult(Outcome.REQUEST_OPEN, number=number)

    async def submit_request(
        self,
        *,
        user_id: int,
        supplier_id: int,
        number: str,
        name: str,
        address: str,
        photo_file_id: str | None,
        locale: str | None = None,
    ) -> Submitted:
        """Send a link request to the operators: the use case in one call.

        Makes the link pending with what the resident gave, commits (named point: the
        request is durable before its card is posted), posts the card through StaffDesk and
        records where it is (a LINK ticket). When the desk refuses the card, the request is
        undone and audited ("link_request_failed"), so nothing half-made is left: no pending
        link without a card. `locale` is the language the resident uses now, remembered
        when they never chose one, so that the decision reaches them in it.
        """
        if self.desk is None:
            return Submitted(SubmitOutcome.DESK_DISABLED)
        card = await self._make_pending(
            user_id=user_id,
            supplier_id=supplier_id,
            number=number,
            name=name,
            address=address,
            photo_file_id=photo_file_id,
            locale=locale,
        )
        if card is None:
            return Submitted(SubmitOutcome.UNAVAILABLE)
        await self.uow.commit()  # named point: the request exists before operators see it
        try:
            posted = await self.desk.post_link_card(card)
        except DeskUnavailable as exc:
            log.error("could not post link request %s to the staff chat: %s", card.link_id, exc)
            await self._drop_request(user_id=user_id, link_id=card.link_id)
            return Submitted(SubmitOutcome.DESK_FAILED)
        await self._record_card(card.link_id, user_id, posted)
        return Submitted(SubmitOutcome.SUBMITTED, link_id=card.link_id)

    async def _make_pending(
        self,
        *,
        user_id: int,
        supplier_id: int,
        number: str,
        name: str,
        address: str,
        photo_file_id: str | None,
        locale: str | None,
    ) -> LinkCard | None:
        """The link made pending with the resident's details; None without such an account."""
        repo = self.uow.links
        account = await repo.find_account(supplier_id, number)
        user = await self.uow.users.get(user_id)
        if account is None or user is None:
            return None
        link = await repo.link_of(user_id, account.id)
        if link is not None and link.status == LinkStatus.ACTIVE.value:
            return None
        if link is not None and link.status == LinkStatus.REJECTED.value:
            # a new request gets a new number: the rejected one keeps its own in the staff
            # chat and the audit trail (ids are never reused)
            await repo.delete_link(link.id)
            repo.session.expunge(link)
        link = await repo.upsert_link(user_id, account.id)
        link.status = LinkStatus.PENDING.value
        link.method = LinkMethod.OPERATOR.value
        link.decided_at = None
        link.decided_by = None
        link.decided_by_name = None
        link.reason = None
        link.request_name = name.strip()[:MAX_NAME_LENGTH]
        link.request_address = address.strip()[:MAX_ADDRESS_LENGTH]
        link.request_photo_file_id = photo_file_id
        if user.language is None and locale:
            user.language = locale
        await self.uow.session.flush()
        self._audit(
            REQUESTED,
            user_id=user_id,
            object_type="account_link",
            object_id=link.id,
            account_id=account.id,
            photo=photo_file_id is not None,
        )
        return await self.card(link.id)

    async def _drop_request(self, *, user_id: int, link_id: int) -> None:
        """The card could not be posted: the request is undone (it is committed already)."""
        repo = self.uow.links
        link = await repo.link(link_id)
        if link is None or link.user_id != user_id or link.status != LinkStatus.PENDING.value:
            return
        await repo.delete_link(link_id)
        self._audit(
            "link_request_failed",
            user_id=user_id,
            object_type="account_link",
            object_id=link_id,
        )

    async def _record_card(self, link_id: int, user_id: int, posted: PostedCard) -> None:
        """Remember where the card of a request is in the staff chat (a LINK ticket)."""
        repo = self.uow.links
        ticket = repo.add_ticket(
            kind=TicketKind.LINK,
            user_id=user_id,
            link_id=link_id,
            staff_chat_id=posted.chat_id,
            staff_message_id=posted.message_id,
            staff_thread_id=posted.thread_id,
        )
        await self.uow.session.flush()  # the ticket's id for its message map
        repo.add_ticket_message(
            ticket, staff_chat_id=posted.chat_id, staff_message_id=posted.message_id, direction="in"
        )

    async def card(self, link_id: int) -> LinkCard | None:
        repo = self.uow.links
        link = await repo.link(link_id)
        if link is None:
            return None
        account = link.account
        phones = await repo.phones_of(account.id)
        others = [
            other
            for other in await repo.links_of_account(account.id)
            if other.user_id != link.user_id and other.status == LinkStatus.ACTIVE.value
        ]
        ticket = await repo.ticket_of_link(link.id)
        return LinkCard(
            link_id=link.id,
            user_id=link.user_id,
            status=LinkStatus(link.status),
            name=link.request_name or "",
            masked_phone=mask_phone(link.user.phone) if link.user.phone else "—",
            supplier_name=account.supplier.name,
            number=account.number,
            address_given=link.request_address or "",
            address_on_file=account.address,
            holder_on_file=account.holder_name,
            phones_on_file=tuple(mask_phone(p) for p in phones),
            other_residents=len(others),
            photo_file_id=link.request_photo_file_id,
            decided_by_name=link.decided_by_name,
            decided_at=link.decided_at,
            reason=link.reason,
            staff_chat_id=ticket.staff_chat_id if ticket else None,
            staff_message_id=ticket.staff_message_id if ticket else None,
        )

    async def decide(
        self,
        *,
        link_id: int,
        approve: bool,
        operator_id: int,
        operator_name: str,
        reason: str | None,
        acknowledge: Callable[[Decision], Awaitable[None]] | None = None,
    ) -> Decision:
        """An operator approves or rejects a request: the use case in one call.

        Exactly one of two concurrent deciders wins. The winner's decision is committed
        (named point: durable before anyone is told), the resident is told through
        ResidentNotifier, and the card is redrawn through StaffDesk (with a note when the
        resident could not be told). The loser gets ALREADY_DECIDED and the card is redrawn
        as it stands; a withdrawn request gives WITHDRAWN.

        `acknowledge(decision)` is awaited once the outcome is known and stored, before any
        slow outside step, so the operator's press is answered within Telegram's ~15 s.
        """
        decision = await self._decide(
            link_id=link_id,
            approve=approve,
            operator_id=operator_id,
            operator_name=operator_name,
            reason=reason,
        )
        if decision.outcome is DecisionOutcome.DECIDED:
            await self.uow.commit()  # named point: durable before anyone is told
        if acknowledge is not None:
            await acknowledge(decision)
        if decision.outcome is DecisionOutcome.WITHDRAWN or decision.card is None:
            return decision
        if decision.outcome is DecisionOutcome.ALREADY_DECIDED:
            if self.desk is not None:
                await self.desk.show_link_card(decision.card)
            return decision
        assert decision.resident_id is not None
        delivery = await self.notifier.link_decided(
            decision.resident_id, decision.resident_language, decision.card
        )
        if self.desk is not None:
            await self.desk.show_link_card(decision.card, delivery=delivery)
        return replace(decision, delivery=delivery)

    async def _decide(
        self,
        *,
        link_id: int,
        approve: bool,
        operator_id: int,
        operator_name: str,
        reason: str | None,
    ) -> Decision:
        """Store the decision; the winner is the one whose `UPDATE … WHERE status =
        'pending'` changed the row."""
        repo = self.uow.links
        now = self.clock.now()
        if reason is not None:
            reason = reason.strip()[:MAX_REASON_LENGTH] or None
        won = await repo.decide(
            link_id,
            status=LinkStatus.ACTIVE if approve else LinkStatus.REJECTED,
            operator_id=operator_id,
            operator_name=operator_name,
            reason=None if approve else reason,
            at=now,
        )
        current = await self.card(link_id)
        if current is None:
            return Decision(DecisionOutcome.WITHDRAWN)
        if not won:
            return Decision(DecisionOutcome.ALREADY_DECIDED, card=current)
        ticket = await repo.ticket_of_link(link_id)
        if ticket is not None:
            await repo.close_ticket(ticket, now)
        self.uow.audit.add(
            DECIDED,
            actor_kind="operator",
            actor_id=operator_id,
            object_type="account_link",
            object_id=link_id,
            details={
                "decision": "approved" if approve else "rejected",
                "reason": None if approve else reason,
                "resident_id": current.user_id,
            },
            at=now,
        )
        link = await repo.link(link_id)
        assert link is not None
        return Decision(
            DecisionOutcome.DECIDED,
            card=current,
            resident_id=link.user_id,
            resident_language=link.user.language,
            account=_account_info(link.account),
        )

    async def unlink(self, *, user_id: int, account_id: int) -> UnlinkResult:
        """Remove the resident's own link (or withdraw their pending request).

        A withdrawn request's card in the staff chat loses its buttons (StaffDesk).
        """
        view = await self.link_view(user_id, account_id)
        if view is None:
            return UnlinkResult(ok=False)
        repo = self.uow.links
        staff: tuple[int, int] | None = None
        ticket = await repo.ticket_of_link(view.link_id)
        if ticket is not None and view.status is LinkStatus.PENDING:
            await repo.close_ticket(ticket, self.clock.now())
            if ticket.staff_chat_id and ticket.staff_message_id:
                staff = (ticket.staff_chat_id, ticket.staff_message_id)
        await repo.delete_link(view.link_id)
        self._audit(
            UNLINKED,
            user_id=user_id,
            object_id=account_id,
            status=view.status.value,
        )
        if staff is not None and self.desk is not None:
            await self.uow.commit()  # named point: withdrawn before the card says so
            await self.desk.mark_withdrawn(*staff)
        return UnlinkResult(ok=True, view=view)
