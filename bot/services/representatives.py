"""Representatives of organisations: ИНН → (КПП) → contract → power of attorney → operator.

Every rule of issue 14 that is not Telegram (README.md, "Organisations"):

- an organisation is the `holder_inn` (+ `holder_kpp` for a branch) of accounts on file;
  a representative names it by ИНН (checked by the ФНС control digits: bot/services/inn.py),
  picks the branch when the organisation has several КПП on file, then gives the contract
  number or one account number of it;
- an ИНН or a contract that is not on file costs one of the resident's daily linking
  attempts (the same counter as bot/services/linking.py), so the records cannot be probed;
- the proof is the power of attorney (доверенность): 1 to MAX_PAGES pages, each a PDF or
  an image of at most MAX_DOCUMENT_BYTES, with the representative's name and position;
- an operator approves it as `manager` (everything a resident can do with the accounts) or
  `accountant` (balance, receipts and history only): the representative then gets one
  account link per account the request named, carrying the role; or rejects it with a
  reason; or, later, revokes an approved one (its links go at once);
- several representatives per organisation, each verified on their own.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from bot.services import linking
from bot.services.clock import Clock
from bot.services.enums import LinkMethod, LinkStatus, RepresentativeRole, RepresentativeStatus
from bot.services.inn import InnProblem, inn_problem, is_legal_entity, normalize_inn
from bot.services.phones import mask_phone
from bot.services.ports import Delivery, DeskUnavailable, ResidentNotifier, StaffDesk
from bot.services.textnorm import compact_number
from storage.models import Account, Representative, RepresentativeDocument
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.representatives")

MAX_PAGES = 10  # pages of a power of attorney (Telegram's album holds 10 as well)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a page: what a bot may still download (getFile)
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp"})
MAX_POSITION_LENGTH = 255
MAX_PENDING = 3  # requests of one resident waiting for operators at once
SHOWN_ACCOUNTS = 10  # accounts listed on a staff card

REQUESTED = "representative_requested"
DECIDED = "representative_decided"
REVOKED = "representative_revoked"
WITHDRAWN = "representative_withdrawn"


class Step(enum.StrEnum):
    FOUND = "found"  # go on (to the branch or the contract)
    CHOOSE_BRANCH = "choose_branch"  # several КПП on file: see .branches
    BAD_INN = "bad_inn"  # see .problem (not counted)
    NOT_FOUND = "not_found"  # counted as a failed attempt
    LOCKED = "locked"
    TOO_MANY = "too_many"  # MAX_PENDING requests wait already
    ALREADY = "already"  # this resident represents it already, or waits for it
    UNAVAILABLE = "unavailable"  # forged or stale


class DocProblem(enum.StrEnum):
    TYPE = "type"  # not a PDF or an image
    TOO_BIG = "too_big"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class Branch:
    account_id: int  # an account of the branch: what a button carries (ids only)
    kpp: str
    name: str


@dataclass(frozen=True)
class OrgStep:
    step: Step
    inn: str | None = None
    kpp: str | None = None
    name: str | None = None
    branches: tuple[Branch, ...] = ()
    reference: str | None = None
    accounts: tuple[str, ...] = ()  # account numbers the request names
    problem: InnProblem | None = None
    attempts_left: int | None = None
    unlock_at: dt.datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of the power of attorney as Telegram gave it."""

    kind: str  # "document" | "photo"
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class RepresentativeCard:
    """What the staff card of a representative shows."""

    rep_id: int
    user_id: int
    status: RepresentativeStatus
    role: RepresentativeRole | None
    name: str
    position: str
    masked_phone: str
    org_name: str  # the holder's name on file
    inn: str
    kpp: str | None
    reference: str
    accounts: tuple[str, ...]
    pages: tuple[Page, ...]
    other_representatives: int  # active ones of the same organisation
    decided_by_name: str | None = None
    decided_at: dt.datetime | None = None
    reason: str | None = None
    staff_chat_id: int | None = None
    staff_message_id: int | None = None


@dataclass(frozen=True)
class PendingRequest:
    """A resident's request waiting for operators (what «My accounts» offers to withdraw)."""

    rep_id: int
    org_name: str


class Result(enum.StrEnum):
    DONE = "done"
    ALREADY = "already"  # someone else decided (or revoked) first
    WITHDRAWN = "withdrawn"  # the resident withdrew the request before the decision
    GONE = "gone"  # no such request any more
    DESK_DISABLED = "desk_disabled"
    DESK_FAILED = "desk_failed"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Outcome:
    result: Result
    card: RepresentativeCard | None = None
    delivery: Delivery | None = None


_BY_EXTENSION = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                 ".png": "image/png", ".webp": "image/webp"}  # fmt: skip


def _document_type(page: Page) -> str:
    """The file's MIME type as Telegram gave it, else as its name says."""
    if page.mime_type:
        return page.mime_type.lower()
    name = (page.file_name or "").lower()
    return next((t for ext, t in _BY_EXTENSION.items() if name.endswith(ext)), "")


def page_problem(page: Page, pages_so_far: int) -> DocProblem | None:
    """Why this page cannot join the power of attorney, or None."""
    if pages_so_far >= MAX_PAGES:
        return DocProblem.TOO_MANY
    if page.kind == "document" and _document_type(page) not in DOCUMENT_TYPES:
        return DocProblem.TYPE
    if page.size is not None and page.size > MAX_DOCUMENT_BYTES:
        return DocProblem.TOO_BIG
    return None


def clean_position(raw: str | None) -> str | None:
    """A position («главный бухгалтер»): at least two letters, at most 255 characters."""
    value = (raw or "").strip()
    if len(value) > MAX_POSITION_LENGTH or sum(ch.isalpha() for ch in value) < 2:
        return None
    return value


def _matches(account: Account, reference: str) -> bool:
    contract = compact_number(account.contract_number or "").casefold()
    return account.number == reference or (bool(contract) and contract == reference.casefold())


class RepresentativesService:
    """The representative use cases of one update (built per update by ServicesMiddleware)."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        limit: int,
        desk: StaffDesk | None,
        notifier: ResidentNotifier,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.limit = limit
        self.desk = desk
        self.notifier = notifier

    # ------------------------------------------------------------------ attempts
    async def _failed_today(self, user_id: int) -> int:
        start, _ = linking.day_bounds(self.clock.now())
        return await self.uow.audit.count(
            actor_id=user_id, actions=linking.FAILED_ACTIONS, since=start
        )

    async def locked_until(self, user_id: int) -> dt.datetime | None:
        if await self._failed_today(user_id) >= self.limit:
            return linking.day_bounds(self.clock.now())[1]
        return None

    async def _fail(self, user_id: int, **details: object) -> OrgStep:
        """A lookup that found nothing: counted like linking's (one daily counter)."""
        self.uow.audit.add(
            linking.FAILED_LOOKUP,
            actor_kind="resident",
            actor_id=user_id,
            object_type="organisation",
            object_id=str(details.get("inn", "")),
            details=dict(details),
            at=self.clock.now(),
        )
        await self.uow.session.flush()
        left = max(0, self.limit - await self._failed_today(user_id))
        unlock = linking.day_bounds(self.clock.now())[1] if left == 0 else None
        return OrgStep(Step.NOT_FOUND, attempts_left=left, unlock_at=unlock)

    async def _gate(self, user_id: int) -> OrgStep | None:
        unlock = await self.locked_until(user_id)
        if unlock is not None:
            return OrgStep(Step.LOCKED, unlock_at=unlock)
        pending = [
            r
            for r in await self.uow.representatives.of_user(user_id)
            if r.status == RepresentativeStatus.PENDING.value
        ]
        return OrgStep(Step.TOO_MANY) if len(pending) >= MAX_PENDING else None

    # ------------------------------------------------------------------ the conversation
    async def find_organisation(self, user_id: int, raw_inn: str) -> OrgStep:
        """The ИНН typed: its problem, or the organisation (and its branches) on file."""
        if (gate := await self._gate(user_id)) is not None:
            return gate
        problem = inn_problem(raw_inn)
        if problem is not None:
            return OrgStep(Step.BAD_INN, problem=problem)
        inn = normalize_inn(raw_inn)
        accounts = await self.uow.representatives.accounts_of(inn)
        if not accounts:
            return await self._fail(user_id, inn=inn)
        branches: dict[str, Branch] = {}
        for account in accounts:
            if account.holder_kpp and account.holder_kpp not in branches:
                branches[account.holder_kpp] = Branch(
                    account.id, account.holder_kpp, account.holder_name
                )
        name = accounts[0].holder_name
        if len(branches) > 1 and is_legal_entity(inn):
            return OrgStep(
                Step.CHOOSE_BRANCH,
                inn=inn,
                name=name,
                branches=tuple(sorted(branches.values(), key=lambda b: b.kpp)),
            )
        kpp = next(iter(branches)) if len(branches) == 1 else None
        return OrgStep(Step.FOUND, inn=inn, kpp=kpp, name=name)

    async def choose_branch(self, inn: str, account_id: int) -> OrgStep:
        """A branch pressed: re-checked (its account must be the organisation's)."""
        account = await self.uow.links.account(account_id)
        if account is None or account.holder_inn != inn or not account.holder_kpp:
            return OrgStep(Step.UNAVAILABLE)
        return OrgStep(Step.FOUND, inn=inn, kpp=account.holder_kpp, name=account.holder_name)

    async def _named(self, inn: str, kpp: str | None, reference: str) -> list[Account]:
        """The organisation's accounts a contract or account number names (as typed or
        as stored: both are compared in the `compact_number` form)."""
        reference = compact_number(reference)
        return [
            account
            for account in await self.uow.representatives.accounts_of(inn, kpp)
            if _matches(account, reference)
        ]

    async def find_contract(
        self, user_id: int, inn: str, kpp: str | None, raw_reference: str
    ) -> OrgStep:
        """The contract or account number typed: the accounts it names (counted if none)."""
        if (gate := await self._gate(user_id)) is not None:
            return gate
        reference = compact_number(raw_reference or "")[:64]
        accounts = await self._named(inn, kpp, reference) if reference else []
        if not accounts:
            return await self._fail(user_id, inn=inn, reference=reference)
        for rep in await self.uow.representatives.of_user(user_id):
            same = (rep.holder_inn, rep.holder_kpp, rep.reference) == (inn, kpp, reference)
            if same and rep.status in (RepresentativeStatus.PENDING, RepresentativeStatus.ACTIVE):
                return OrgStep(Step.ALREADY, inn=inn, name=accounts[0].holder_name)
        return OrgStep(
            Step.FOUND,
            inn=inn,
            kpp=kpp,
            name=accounts[0].holder_name,
            reference=reference,
            accounts=tuple(a.number for a in accounts),
        )

    async def submit(
        self,
        *,
        user_id: int,
        inn: str,
        kpp: str | None,
        reference: str,
        name: str,
        position: str,
        pages: Sequence[Page],
        locale: str | None = None,
    ) -> Outcome:
        """The request with its card in the staff chat: stored and committed before the card
        is posted; undone (and audited) when the desk refuses the card."""
        if self.desk is None:
            return Outcome(Result.DESK_DISABLED)
        accounts = await self._named(inn, kpp, reference)
        user = await self.uow.users.get(user_id)
        if not accounts or user is None or not 1 <= len(pages) <= MAX_PAGES:
            return Outcome(Result.UNAVAILABLE)
        if user.language is None and locale:
            user.language = locale
        rep = Representative(
            user_id=user_id,
            supplier_id=accounts[0].supplier_id,
            holder_inn=inn,
            holder_kpp=kpp,
            reference=compact_number(reference)[:64],
            status=RepresentativeStatus.PENDING.value,
            name=name.strip()[: linking.MAX_NAME_LENGTH],
            position=position.strip()[:MAX_POSITION_LENGTH],
        )
        docs = [
            RepresentativeDocument(
                position=i,
                kind=p.kind,
                file_id=p.file_id,
                file_name=(p.file_name or None) and p.file_name[:255],
                mime_type=p.mime_type,
                size=p.size,
            )
            for i, p in enumerate(pages)
        ]
        self.uow.representatives.add(rep, docs)
        await self.uow.session.flush()
        self._audit(REQUESTED, user_id, rep.id, inn=inn, pages=len(pages))
        card = await self.card(rep.id)
        assert card is not None
        await self.uow.commit()  # named point: the request exists before operators see it
        try:
            posted = await self.desk.post_representative_card(card)
        except DeskUnavailable as exc:
            log.error("could not post representative %s to the staff chat: %s", rep.id, exc)
            await self.uow.representatives.delete(rep.id)
            self._audit("representative_request_failed", user_id, rep.id)
            return Outcome(Result.DESK_FAILED)
        stored = await self.uow.representatives.get(rep.id)
        if stored is not None:
            stored.staff_chat_id, stored.staff_message_id = posted.chat_id, posted.message_id
            stored.staff_page_ids = list(posted.extra_message_ids)
        return Outcome(Result.DONE, card=card)

    def _audit(
        self, action: str, actor_id: int, rep_id: int, kind: str = "resident", **d: object
    ) -> None:
        self.uow.audit.add(
            action,
            actor_kind=kind,
            actor_id=actor_id,
            object_type="representative",
            object_id=rep_id,
            details=dict(d),
            at=self.clock.now(),
        )

    # ------------------------------------------------------------------ the staff card
    async def card(self, rep_id: int) -> RepresentativeCard | None:
        repo = self.uow.representatives
        rep = await repo.get(rep_id)
        if rep is None:
            return None
        accounts = await self._named(rep.holder_inn, rep.holder_kpp, rep.reference)
        peers = [
            other
            for other in await self._peers(rep.holder_inn)
            if other.id != rep.id and other.status == RepresentativeStatus.ACTIVE.value
        ]
        org_name = accounts[0].holder_name if accounts else ""
        return RepresentativeCard(
            rep_id=rep.id,
            user_id=rep.user_id,
            status=RepresentativeStatus(rep.status),
            role=RepresentativeRole(rep.role) if rep.role else None,
            name=rep.name,
            position=rep.position,
            masked_phone=mask_phone(rep.user.phone) if rep.user.phone else "—",
            org_name=org_name,
            inn=rep.holder_inn,
            kpp=rep.holder_kpp,
            reference=rep.reference,
            accounts=tuple(a.number for a in accounts[:SHOWN_ACCOUNTS]),
            pages=tuple(
                Page(d.kind, d.file_id, d.file_name, d.mime_type, d.size) for d in rep.documents
            ),
            other_representatives=len(peers),
            decided_by_name=rep.decided_by_name,
            decided_at=rep.decided_at,
            reason=rep.reason,
            staff_chat_id=rep.staff_chat_id,
            staff_message_id=rep.staff_message_id,
        )

    async def _peers(self, inn: str) -> list[Representative]:
        return await self.uow.representatives.of_organisation(inn)

    # ------------------------------------------------------------------ decisions
    async def decide(
        self,
        *,
        rep_id: int,
        role: RepresentativeRole | None,
        operator_id: int,
        operator_name: str,
        reason: str | None = None,
        acknowledge: Callable[[Outcome], Awaitable[None]] | None = None,
    ) -> Outcome:
        """Approve with a role (`role`) or reject (`role` None, with `reason`).

        One of two concurrent deciders wins (an atomic UPDATE … WHERE status = 'pending');
        the winner's decision is committed before the representative is told and the card
        redrawn; `acknowledge` answers the operator's press before those slow steps."""
        now = self.clock.now()
        approve = role is not None
        won = await self.uow.representatives.move(
            rep_id,
            old=RepresentativeStatus.PENDING,
            new=RepresentativeStatus.ACTIVE if approve else RepresentativeStatus.REJECTED,
            at=now,
            role=role.value if role else None,
            decided_at=now,
            decided_by=operator_id,
            decided_by_name=operator_name[:255],
            reason=None if approve else (reason or "").strip()[: linking.MAX_REASON_LENGTH],
        )
        if won and role is not None:
            await self._grant(rep_id, role, now)
        if won:
            self._audit(DECIDED, operator_id, rep_id, "operator", role=role.value if role else None)
        return await self._after(rep_id, won, acknowledge)

    async def _grant(self, rep_id: int, role: RepresentativeRole, now: dt.datetime) -> None:
        rep = await self.uow.representatives.get(rep_id)
        assert rep is not None
        for account in await self._named(rep.holder_inn, rep.holder_kpp, rep.reference):
            link = await self.uow.links.upsert_link(rep.user_id, account.id)
            link.status = LinkStatus.ACTIVE.value
            link.method = LinkMethod.POWER_OF_ATTORNEY.value
            link.decided_at = now
            link.decided_by_name = rep.decided_by_name
            link.reason = None
            link.representative_id = rep.id
            link.role = role.value
        await self.uow.session.flush()

    async def revoke(
        self,
        *,
        rep_id: int,
        operator_id: int,
        operator_name: str,
        acknowledge: Callable[[Outcome], Awaitable[None]] | None = None,
    ) -> Outcome:
        """An operator withdraws an approved representative: its account links go at once."""
        now = self.clock.now()
        won = await self.uow.representatives.move(
            rep_id,
            old=RepresentativeStatus.ACTIVE,
            new=RepresentativeStatus.REVOKED,
            at=now,
            decided_at=now,
            decided_by=operator_id,
            decided_by_name=operator_name[:255],
        )
        if won:
            await self.uow.representatives.drop_links(rep_id)
            self._audit(REVOKED, operator_id, rep_id, "operator")
        return await self._after(rep_id, won, acknowledge)

    async def _after(
        self,
        rep_id: int,
        won: bool,
        acknowledge: Callable[[Outcome], Awaitable[None]] | None,
    ) -> Outcome:
        card = await self.card(rep_id)
        result = Result.GONE if card is None else Result.DONE if won else Result.ALREADY
        if result is Result.ALREADY and card and card.status is RepresentativeStatus.WITHDRAWN:
            result = Result.WITHDRAWN
        outcome = Outcome(result, card)
        if won:
            await self.uow.commit()  # named point: durable before anyone is told
        if acknowledge is not None:
            await acknowledge(outcome)
        if card is None:
            return outcome
        delivery = None
        if won:
            rep = await self.uow.representatives.get(rep_id)
            language = rep.user.language if rep is not None else None
            delivery = await self.notifier.representative_decided(card.user_id, language, card)
        if self.desk is not None:
            await self.desk.show_representative_card(card, delivery=delivery)
        return replace(outcome, delivery=delivery)

    # ------------------------------------------------------------------ the resident's own
    async def pending_of(self, user_id: int) -> list[PendingRequest]:
        """This resident's requests waiting for operators, oldest first."""
        waiting = []
        for rep in await self.uow.representatives.of_user(user_id):
            if rep.status == RepresentativeStatus.PENDING.value:
                accounts = await self.uow.representatives.accounts_of(rep.holder_inn)
                name = accounts[0].holder_name if accounts else rep.holder_inn
                waiting.append(PendingRequest(rep.id, name))
        return sorted(waiting, key=lambda r: r.rep_id)

    async def pending_request(self, user_id: int, rep_id: int) -> PendingRequest | None:
        """The resident's own pending request (None for anyone else's: forged buttons)."""
        return next((r for r in await self.pending_of(user_id) if r.rep_id == rep_id), None)

    async def withdraw(self, *, user_id: int, rep_id: int) -> PendingRequest | None:
        """The resident withdraws their own pending request (None: not theirs, or decided
        meanwhile — an operator's decision and the withdrawal race on one atomic UPDATE).

        Committed before the staff card loses its buttons and says so (StaffDesk)."""
        request = await self.pending_request(user_id, rep_id)
        if request is None:
            return None
        now = self.clock.now()
        won = await self.uow.representatives.move(
            rep_id, old=RepresentativeStatus.PENDING, new=RepresentativeStatus.WITHDRAWN, at=now
        )
        if not won:
            return None
        self._audit(WITHDRAWN, user_id, rep_id)
        rep = await self.uow.representatives.get(rep_id)
        staff = (rep.staff_chat_id, rep.staff_message_id) if rep is not None else (None, None)
        await self.uow.commit()  # named point: withdrawn before the card says so
        if self.desk is not None and staff[0] and staff[1]:
            await self.desk.mark_withdrawn(staff[0], staff[1])
        return request

    # ------------------------------------------------------------------ roles
    async def role(self, user_id: int, account_id: int) -> RepresentativeRole | None:
        """The role this resident has for the account (None: their own account, or none)."""
        link = await self.uow.links.link_of(user_id, account_id)
        if link is None or link.status != LinkStatus.ACTIVE.value or not link.role:
            return None
        return RepresentativeRole(link.role)
