"""/notice: a supplier's notice to every resident with an active link to it.

`NoticeService` (per update) drafts a notice for the preview, cancels it, or starts it
(draft → sending, one queued row per resident, committed) — the first press wins.
`run_notice` (a task of its own, with its own units of work) sends the queued ones
through the ResidentNotifier's rate-limited bulk sender, a batch at a time: a batch is
marked `sending` and committed before it goes, each outcome is stored as it comes, and
the staff chat's progress line is edited at most every `every` seconds. After a crash the
recipients of the batch in flight are not sent again (at most once); the queued ones are
sent when the run resumes. One run at a time: the caller holds `NOTICE_LOCK` (a lease).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.services.clock import Clock
from bot.services.ports import (
    Delivery,
    NoticeBoard,
    NoticeMessage,
    NoticeProgress,
    NoticeRecipient,
    ResidentNotifier,
)
from storage.enums import NoticeStatus, RecipientStatus
from storage.locks import JobLock
from storage.models import Notice
from storage.uow import UnitOfWork, current_uow

log = logging.getLogger("kabinet.notices")

NOTICE_LOCK = "notices"
MAX_TEXT = 3500  # UTF-16 units, as Telegram counts: the notice with its header fits a message
BATCH = 100
RETRIES = 3  # rounds for recipients Telegram could not be reached for
RETRY_PAUSE = 30.0  # seconds before such a round


class NoticeProblem(enum.StrEnum):
    USAGE = "usage"  # no supplier code or no text
    UNKNOWN_SUPPLIER = "unknown_supplier"
    TOO_LONG = "too_long"
    NOBODY = "nobody"  # no resident has an active link to the supplier


@dataclass(frozen=True)
class NoticeDraft:
    notice_id: int
    supplier_code: str
    supplier: str
    text: str
    audience: int
    status: NoticeStatus


class StartOutcome(enum.StrEnum):
    STARTED = "started"
    ALREADY = "already"  # sending or sent
    CANCELLED = "cancelled"
    GONE = "gone"
    BUSY = "busy"  # another notice is being sent (one run at a time)


def _draft(notice: Notice, code: str, supplier: str, audience: int) -> NoticeDraft:
    return NoticeDraft(
        notice.id, code, supplier, notice.text, audience, NoticeStatus(notice.status)
    )


class NoticeService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def draft(
        self,
        supplier_code: str,
        text: str,
        *,
        operator_id: int,
        operator_name: str,
        chat_id: int,
        thread_id: int | None,
    ) -> NoticeDraft | NoticeProblem:
        text = text.strip()
        if not supplier_code or not text:
            return NoticeProblem.USAGE
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:  # an emoji counts 2, as in Telegram
            return NoticeProblem.TOO_LONG
        repo = self.uow.notices
        supplier = await repo.supplier_by_code(supplier_code)
        if supplier is None:
            return NoticeProblem.UNKNOWN_SUPPLIER
        audience = await repo.audience_size(supplier.id)
        if audience == 0:
            return NoticeProblem.NOBODY
        notice = Notice(
            supplier_id=supplier.id,
            text=text,
            status=NoticeStatus.DRAFT.value,
            created_by=operator_id,
            created_by_name=operator_name[:255],
            created_at=self.clock.now(),
            staff_chat_id=chat_id,
            staff_thread_id=thread_id,
            total=0,
            delivered=0,
            blocked=0,
            failed=0,
        )
        repo.add(notice)
        await self.uow.session.flush()
        self.uow.audit.add(
            "notice_drafted",
            actor_kind="operator",
            actor_id=operator_id,
            object_type="notice",
            object_id=notice.id,
            details={"supplier": supplier.code, "audience": audience},
        )
        return _draft(notice, supplier.code, supplier.name, audience)

    async def get(self, notice_id: int) -> NoticeDraft | None:
        notice = await self.uow.notices.get(notice_id)
        if notice is None:
            return None
        supplier = await self.uow.links.supplier(notice.supplier_id)
        if supplier is None:
            return None
        return _draft(notice, supplier.code, supplier.name, notice.total)

    async def cancel(self, notice_id: int, *, operator_id: int) -> StartOutcome | None:
        """None: cancelled now; otherwise why not (already started, cancelled, gone)."""
        repo = self.uow.notices
        if await repo.set_status(notice_id, NoticeStatus.DRAFT, NoticeStatus.CANCELLED):
            self.uow.audit.add(
                "notice_cancelled",
                actor_kind="operator",
                actor_id=operator_id,
                object_type="notice",
                object_id=notice_id,
            )
            return None
        return await self._why_not(notice_id)

    async def _why_not(self, notice_id: int) -> StartOutcome:
        notice = await self.uow.notices.get(notice_id)
        if notice is None:
            return StartOutcome.GONE
        await self.uow.notices.refresh(notice)
        if notice.status == NoticeStatus.CANCELLED.value:
            return StartOutcome.CANCELLED
        return StartOutcome.ALREADY

    async def start(self, notice_id: int, *, operator_id: int) -> StartOutcome:
        """Draft → sending with its recipients queued, committed (the run may begin)."""
        repo = self.uow.notices
        notice = await repo.get(notice_id)
        if notice is None or notice.status != NoticeStatus.DRAFT.value:
            return await self._why_not(notice_id)  # read only: no write lock taken
        now = self.clock.now()
        started = await repo.set_status(
            notice_id,
            NoticeStatus.DRAFT,
            NoticeStatus.SENDING,
            started_by=operator_id,
            started_at=now,
        )
        if not started:
            return await self._why_not(notice_id)
        total = await repo.queue_audience(notice_id, notice.supplier_id)
        notice.total = total
        self.uow.audit.add(
            "notice_started",
            actor_kind="operator",
            actor_id=operator_id,
            object_type="notice",
            object_id=notice_id,
            details={"recipients": total},
        )
        await self.uow.commit()  # the run reads it in units of work of its own
        return StartOutcome.STARTED


@dataclass
class _Run:
    notice_id: int
    progress: NoticeProgress
    message: NoticeMessage


async def _load(new_uow: Callable[[], UnitOfWork], notice_id: int) -> _Run | None:
    async with new_uow() as uow:
        notice = await uow.notices.get(notice_id)
        if notice is None or notice.status != NoticeStatus.SENDING.value:
            return None
        supplier = await uow.links.supplier(notice.supplier_id)
        name = supplier.name if supplier is not None else "?"
        progress = NoticeProgress(
            notice_id=notice.id,
            supplier=name,
            total=notice.total,
            delivered=notice.delivered,
            blocked=notice.blocked,
            failed=notice.failed,
            done=False,
            chat_id=notice.staff_chat_id,
            thread_id=notice.staff_thread_id,
            message_id=notice.progress_message_id,
        )
        return _Run(notice.id, progress, NoticeMessage(name, notice.text))


async def _store(
    new_uow: Callable[[], UnitOfWork], run: _Run, outcomes: dict[Delivery, list[int]], clock: Clock
) -> None:
    """Store a batch's outcomes and the counts (DEFERRED ones are queued again)."""
    p = run.progress
    async with new_uow() as uow:
        repo = uow.notices
        await repo.mark(run.notice_id, outcomes.get(Delivery.SENT, []), RecipientStatus.SENT)
        await repo.mark(run.notice_id, outcomes.get(Delivery.BLOCKED, []), RecipientStatus.BLOCKED)
        await repo.mark(run.notice_id, outcomes.get(Delivery.FAILED, []), RecipientStatus.FAILED)
        await repo.mark(run.notice_id, outcomes.get(Delivery.DEFERRED, []), RecipientStatus.QUEUED)
        await repo.mark_inactive(outcomes.get(Delivery.BLOCKED, []), clock.now())
        notice = await repo.get(run.notice_id)
        if notice is not None:
            notice.delivered, notice.blocked, notice.failed = p.delivered, p.blocked, p.failed
            notice.progress_message_id = p.message_id


async def _show(board: NoticeBoard, run: _Run, **changes: Any) -> None:
    run.progress = replace(run.progress, **changes)
    message_id = await board.show_progress(run.progress)
    if message_id is not None and run.progress.message_id is None:
        run.progress = replace(run.progress, message_id=message_id)


_COUNTED = {Delivery.SENT: "delivered", Delivery.BLOCKED: "blocked", Delivery.FAILED: "failed"}


@dataclass
class _Runner:
    new_uow: Callable[[], UnitOfWork]
    clock: Clock
    notifier: ResidentNotifier
    board: NoticeBoard
    every: float
    monotonic: Callable[[], float]
    shown: float = 0.0

    async def next_batch(self, notice_id: int, size: int) -> list[NoticeRecipient]:
        """The next queued recipients, marked `sending` and committed before they go."""
        async with self.new_uow() as uow:
            queued = await uow.notices.queued(notice_id, size)
            await uow.notices.mark(notice_id, [i for i, _ in queued], RecipientStatus.SENDING)
        return [NoticeRecipient(i, language) for i, language in queued]

    async def send(self, run: _Run, recipients: list[NoticeRecipient]) -> dict[Delivery, list[int]]:
        outcomes: dict[Delivery, list[int]] = {}
        p = run.progress
        counts = {"delivered": p.delivered, "blocked": p.blocked, "failed": p.failed}
        async for recipient, delivery in self.notifier.send_notice(run.message, recipients):
            outcomes.setdefault(delivery, []).append(recipient.resident_id)
            if delivery in _COUNTED:
                counts[_COUNTED[delivery]] += 1
            if self.monotonic() - self.shown >= self.every:
                await _show(self.board, run, **counts)
                self.shown = self.monotonic()
        run.progress = replace(run.progress, **counts)  # type: ignore[arg-type]
        await _store(self.new_uow, run, outcomes, self.clock)
        return outcomes

    async def finish(self, run: _Run) -> None:
        p = run.progress
        async with self.new_uow() as uow:
            await uow.notices.set_status(
                run.notice_id, NoticeStatus.SENDING, NoticeStatus.DONE, finished_at=self.clock.now()
            )
            uow.audit.add(
                "notice_sent",
                actor_kind="system",
                actor_id=None,
                object_type="notice",
                object_id=run.notice_id,
                details={"delivered": p.delivered, "blocked": p.blocked, "failed": p.failed},
            )
        await _show(self.board, run, done=True)


async def run_notice(
    notice_id: int,
    *,
    new_uow: Callable[[], UnitOfWork],
    clock: Clock,
    notifier: ResidentNotifier,
    board: NoticeBoard,
    lock: JobLock,
    every: float = 2.0,
    batch: int = BATCH,
    monotonic: Callable[[], float] = time.monotonic,
    stopping: Callable[[], bool] = lambda: False,
    retries: int = RETRIES,
    pause: float = RETRY_PAUSE,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> NoticeProgress | None:
    """Send a started notice to its queued recipients; the last progress (None: nothing
    to run). The caller acquired `lock`; it is renewed per batch and released at the end.

    Recipients that could not be tried (Telegram unreachable) are queued again and tried
    after `pause` seconds, up to `retries` times; when the process is `stopping`, or they
    still fail, the notice stays `sending` and they get it when it is resumed (start-up)."""
    current_uow.set(None)  # the handler's unit of work is not this task's
    runner = _Runner(new_uow, clock, notifier, board, every, monotonic)
    try:
        run = await _load(new_uow, notice_id)
        if run is None:
            return None
        await _show(board, run)
        runner.shown = monotonic()
        while recipients := await runner.next_batch(notice_id, batch):
            await lock.acquire()  # renew the lease
            outcomes = await runner.send(run, recipients)
            deferred = len(outcomes.get(Delivery.DEFERRED, []))
            if deferred:
                log.warning("notice %s: %s deferred", notice_id, deferred)
                if stopping() or retries <= 0:
                    await _show(board, run)
                    return run.progress
                retries -= 1
                await sleep(pause)
        await runner.finish(run)
        return run.progress
    finally:
        await lock.release()
