"""/find: residents by phone, account number, part of a name or of an address.

A query is read once (`parse_query`): a phone in any format (+7…, 8…, foreign with '+',
digits of any script) is matched against residents' phones and the phones on file of
accounts; digits against account numbers (a part of one is enough); anything with letters
against residents' names, holders and addresses (a part, any case). Residents come with
all their accounts (link status, billing's balance); accounts no resident is linked to
come on their own. Results are paged, `PAGE_SIZE` cards a page.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from decimal import Decimal

from bot.services.enums import LinkStatus
from bot.services.phones import InvalidPhone, typed_phone_to_e164
from bot.services.textnorm import ascii_digits
from storage.models import Account
from storage.uow import UnitOfWork

MIN_QUERY = 3  # characters (digits or letters) a query needs
MAX_QUERY = 100
PAGE_SIZE = 5
_NUMBERISH = re.compile(r"^[+0-9()\-. ]+$")
_SIGNIFICANT = re.compile(r"\w", re.UNICODE)


class QueryProblem(enum.StrEnum):
    EMPTY = "empty"
    TOO_SHORT = "too_short"


@dataclass(frozen=True)
class Query:
    text: str
    phone: str | None = None  # E.164
    number: str | None = None  # digits of an account number (or a part)
    words: tuple[str, ...] = ()  # the text in a few cases (SQLite compares Cyrillic by case)


def parse_query(raw: str | None) -> Query | QueryProblem:
    text = " ".join(ascii_digits(raw or "").split())[:MAX_QUERY]
    if not text:
        return QueryProblem.EMPTY
    if len(_SIGNIFICANT.findall(text)) < MIN_QUERY:
        return QueryProblem.TOO_SHORT
    if _NUMBERISH.match(text):
        digits = re.sub(r"[^0-9]", "", text)
        try:
            phone: str | None = typed_phone_to_e164(text)
        except InvalidPhone:
            phone = None
        return Query(text, phone=phone, number=digits if "+" not in text else None)
    variants = (text, text.lower(), text.upper(), text.capitalize(), text.title())
    return Query(text, words=tuple(dict.fromkeys(variants)))


@dataclass(frozen=True)
class FoundAccount:
    account_id: int
    supplier: str
    number: str
    address: str
    holder: str
    balance: Decimal | None  # billing's: a debt when positive; None without charges
    link: LinkStatus | None  # the resident's link (None: an account on its own)


@dataclass(frozen=True)
class FoundResident:
    user_id: int
    name: str
    phone: str | None
    language: str | None
    registered_at: dt.datetime | None
    banned: bool
    inactive: bool
    accounts: tuple[FoundAccount, ...]


@dataclass(frozen=True)
class FindPage:
    query: str
    residents: tuple[FoundResident, ...]
    accounts: tuple[FoundAccount, ...]  # found, linked to nobody
    page: int
    pages: int
    total: int


def _account(account: Account, balances: dict[int, Decimal], link: str | None) -> FoundAccount:
    return FoundAccount(
        account_id=account.id,
        supplier=account.supplier.name,
        number=account.number,
        address=account.address,
        holder=account.holder_name,
        balance=balances.get(account.id),
        link=LinkStatus(link) if link else None,
    )


class StaffLookupService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def find(self, raw: str | None, page: int = 0) -> FindPage | QueryProblem:
        query = parse_query(raw)
        if isinstance(query, QueryProblem):
            return query
        repo = self.uow.staff
        user_ids, account_ids = await repo.find(
            phone=query.phone, number=query.number, words=query.words
        )
        found: list[tuple[str, int]] = [("u", i) for i in user_ids] + [
            ("a", i) for i in account_ids
        ]
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        shown = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        users = await repo.users([i for kind, i in shown if kind == "u"])
        links = await repo.links_of([u.id for u in users])
        lonely = await repo.accounts([i for kind, i in shown if kind == "a"])
        balances = await repo.balances({link.account_id for link in links} | {a.id for a in lonely})
        residents = tuple(
            FoundResident(
                user_id=user.id,
                name=user.first_name or "",
                phone=user.phone,
                language=user.language,
                registered_at=user.consented_at,
                banned=user.banned_at is not None,
                inactive=user.inactive_since is not None,
                accounts=tuple(
                    _account(link.account, balances, link.status)
                    for link in links
                    if link.user_id == user.id
                ),
            )
            for user in users
        )
        return FindPage(
            query=query.text,
            residents=residents,
            accounts=tuple(_account(a, balances, None) for a in lonely),
            page=page,
            pages=pages,
            total=len(found),
        )
