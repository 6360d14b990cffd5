"""An organisation's receipt (issue 14): the payer is the organisation — its name on the
page, its ИНН on the page and in the QR code's PayerINN field (ГОСТ Р 56042-2014)."""

from __future__ import annotations

import io
from decimal import Decimal

import pypdfium2
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import update

from bot.services.balance import BalanceService
from bot.services.balance.render import Renderer
from bot.services.clock import FrozenClock
from bot.services.receipts import ReceiptKind, ReceiptService
from bot.services.receipts.gost import PaymentOrder, payload
from storage.db import Database
from storage.models import Account
from storage.uow import UnitOfWork
from tests.support.balance import seed_linked
from tests.unit.test_receipts import UK


def test_payer_inn_is_a_field_of_the_payload_and_absent_for_a_flat() -> None:
    order = PaymentOrder(UK, Decimal("1"), "x", "1", "2026-01", "", payer_inn="7707083893")
    assert payload(order).endswith("|PayerINN=7707083893")
    assert "PayerINN" not in payload(PaymentOrder(UK, Decimal("1"), "x", "1", "2026-01", ""))


async def test_the_receipt_of_an_organisation_names_it_and_its_inn(
    db: Database, clock: FrozenClock
) -> None:
    seeded = await seed_linked(db, clock, 900, ("debtor",))
    account_id = seeded.ids["debtor"]
    async with db.session_maker() as session:
        await session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(holder_name="ООО «Ромашка»", holder_inn="7707083893", holder_kpp="773601001")
        )
        await session.commit()
    async with UnitOfWork(db.session_maker) as uow:
        renderer = Renderer(workers=0)
        service = ReceiptService(uow, clock, renderer, BalanceService(uow, clock, renderer))
        result = await service.render(await service.draft(900, account_id, None, ReceiptKind.DUE))
    assert result.file is not None and result.file.payload is not None
    assert "|PayerINN=7707083893" in result.file.payload
    image = pypdfium2.PdfDocument(result.file.pdf)[0].render(scale=3).to_pil()
    [code] = zxingcpp.read_barcodes(image)
    assert code.text == result.file.payload  # the QR on the page says it too
    text = " ".join(PdfReader(io.BytesIO(result.file.pdf)).pages[0].extract_text().split())
    assert "Плательщик ООО «Ромашка»" in text and "ИНН 7707083893" in text
