"""What the operators' monitoring sees: counts only, never a person."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Snapshot:
    residents: dict[str, int] = field(default_factory=dict)  # consented, registered
    links: dict[str, int] = field(default_factory=dict)  # by status
    open_tickets: dict[str, int] = field(default_factory=dict)  # by kind
    billing: dict[str, int] = field(default_factory=dict)  # suppliers, accounts


async def snapshot(uow: UnitOfWork) -> Snapshot:
    repo = uow.stats
    return Snapshot(
        residents=await repo.residents(),
        links=await repo.links_by_status(),
        open_tickets=await repo.open_tickets_by_kind(),
        billing=await repo.billing(),
    )
