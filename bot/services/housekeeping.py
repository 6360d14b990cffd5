"""Keep no personal data longer than needed (152-ФЗ): old codes and abandoned conversations.

- One-time codes hold the phone or e-mail they went to. They are needed for their lifetime
  and for the daily limit of codes per target, so they are kept two days, then deleted.
- A conversation left half-way (its FSM state and data: an account number typed, a name
  given for an operator) is forgotten after 30 days idle; the resident starts again with
  /start. With Redis the same limit is the keys' time to live.
- The log of meter-reading reminders (who was reminded of which period) only guards a
  window against a second reminder: it is kept 120 days (a window lasts at most a month
  and may run over the month end), then deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.services.clock import Clock
from storage.uow import UnitOfWork

CODES_KEPT = dt.timedelta(days=2)
CONVERSATIONS_KEPT = dt.timedelta(days=30)
REMINDERS_KEPT = dt.timedelta(days=120)
EVERY = dt.timedelta(hours=1)  # how often the bot process runs it


@dataclass(frozen=True)
class Purged:
    codes: int
    conversations: int
    reminders: int = 0

    def text(self) -> str:
        return (
            f"housekeeping: {self.codes} old one-time code(s), "
            f"{self.conversations} abandoned conversation(s) and "
            f"{self.reminders} old reminder record(s) deleted"
        )


async def purge(uow: UnitOfWork, *, clock: Clock) -> Purged:
    now = clock.now()
    repo = uow.housekeeping
    return Purged(
        codes=await repo.delete_codes_created_before(now - CODES_KEPT),
        conversations=await repo.delete_conversations_idle_since(now - CONVERSATIONS_KEPT),
        reminders=await repo.delete_reminders_created_before(now - REMINDERS_KEPT),
    )
