"""Receipts: the ГОСТ Р 56042-2014 payload, kopecks, the PDF's text and its QR code read
back by an independent decoder (zxing-cpp) from the rendered page (pypdfium2)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import update

from bot.config import Settings
from bot.services.balance import BalanceService, Payee
from bot.services.balance.money import to_kopecks
from bot.services.balance.render import Renderer
from bot.services.clock import FrozenClock
from bot.services.receipts import (
    ReceiptKind,
    ReceiptOutcome,
    ReceiptResult,
    ReceiptService,
    document,
)
from bot.services.receipts.gost import MAX_VERSION, PaymentOrder, make_symbol, payload
from storage.db import Database
from storage.models import Supplier
from storage.uow import UnitOfWork
from tests.support.balance import Seeded, seed_linked

UK = Payee(
    id=1,
    name="ООО «УК Заречье»",
    inn="6950123456",
    kpp="695001001",
    bank_name="Тверское отделение № 8607 ПАО Сбербанк",
    bic="042809679",
    corr_account="30101810700000000679",
    settlement_account="40702810763000001234",
)
EXPECTED = (
    "ST00012|Name=ООО «УК Заречье»|PersonalAcc=40702810763000001234"
    "|BankName=Тверское отделение № 8607 ПАО Сбербанк|BIC=042809679"
    "|CorrespAcc=30101810700000000679|PayeeINN=6950123456|KPP=695001001|Sum=3327018"
    "|Purpose=Оплата по л/с 10200274 за 11.2026|PersAcc=10200274|PaymPeriod=112026"
    "|payerAddress=г. Тверь, пр-т Победы, д. 41, кв. 7"
)


def test_the_payload_from_known_data_is_exact() -> None:
    order = PaymentOrder(
        payee=UK,
        amount=Decimal("33270.18"),
        purpose="Оплата по л/с 10200274 за 11.2026",
        account_number="10200274",
        period="2026-11",
        payer_address="г. Тверь, пр-т Победы, д. 41, кв. 7",
    )
    assert payload(order) == EXPECTED


def test_no_value_holds_the_separator_or_a_line_break() -> None:
    payee = Payee(**{**UK.__dict__, "name": 'ООО "Вода|Сток"\nфилиал'})
    text = payload(PaymentOrder(payee, Decimal("1"), "за | воду", "1", "2026-01", "ул. А|Б"))
    fields = text.split("|")
    assert fields[0] == "ST00012"
    assert 'Name=ООО "Вода/Сток" филиал' in fields
    assert "Purpose=за / воду" in fields and "payerAddress=ул. А/Б" in fields
    assert all("=" in f for f in fields[1:])
    assert "payerAddress" not in payload(PaymentOrder(UK, Decimal("1"), "x", "1", "2026-01", ""))


def test_long_texts_are_cut_to_fit_the_qr_version_but_not_the_figures() -> None:
    payee = Payee(**{**UK.__dict__, "name": "Товарищество собственников недвижимости " * 8})
    order = PaymentOrder(payee, Decimal("999999.99"), "Оплата " * 60, "10200274", "2026-11",
                         "г. Тверь, улица Очень-Очень Длинная, " * 10)  # fmt: skip
    text = payload(order)
    assert make_symbol(text).version <= MAX_VERSION
    assert "|Sum=99999999|" in text and "|PersAcc=10200274|" in text
    assert "|PersonalAcc=40702810763000001234|" in text and "|PaymPeriod=112026" in text


@pytest.mark.parametrize(
    ("amount", "kopecks"),
    [
        ("1234.56", 123456),
        ("0.01", 1),
        ("0.005", 1),  # half a kopeck up
        ("0.0049", 0),
        ("1234.565", 123457),
        ("999999.99", 99999999),
        ("0.1", 10),  # 0.1 is exact as a Decimal: no float's 0.1000000000000000055
    ],
)
def test_kopecks_are_rounded_half_up_with_decimal(amount: str, kopecks: int) -> None:
    assert to_kopecks(Decimal(amount)) == kopecks


async def _receipt(
    db: Database, clock: FrozenClock, case: str, kind: ReceiptKind, **kw: Any
) -> tuple[Seeded, ReceiptResult]:
    seeded = await seed_linked(db, clock, 900, (case,))
    async with UnitOfWork(db.session_maker) as uow:
        renderer = Renderer(workers=0)
        service = ReceiptService(uow, clock, renderer, BalanceService(uow, clock, renderer))
        return seeded, await service.render(
            await service.draft(900, seeded.ids[case], None, kind, **kw)
        )


async def test_the_qr_code_on_the_page_decodes_to_the_payload(
    db: Database, clock: FrozenClock
) -> None:
    seeded, result = await _receipt(db, clock, "debtor", ReceiptKind.DUE)
    assert result.outcome is ReceiptOutcome.READY and result.file is not None
    file = result.file
    assert file.payload == EXPECTED.replace("10200274", seeded.demo.debtor.number)
    page = pypdfium2.PdfDocument(file.pdf)[0]
    image = page.render(scale=3).to_pil()
    [code] = zxingcpp.read_barcodes(image)
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.bytes.decode("utf-8") == file.payload
    assert code.text == file.payload
    [picture] = zxingcpp.read_barcodes(Image.open(io.BytesIO(file.qr_png or b"")))
    assert picture.text == file.payload


def _text(pdf: bytes) -> str:
    raw = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    return " ".join(raw.replace("\u00a0", " ").replace("\u202f", " ").split())


async def test_the_pdf_holds_the_right_figures(db: Database, clock: FrozenClock) -> None:
    seeded, result = await _receipt(db, clock, "debtor", ReceiptKind.DUE)
    assert result.file is not None
    text = _text(result.file.pdf)
    number = seeded.demo.debtor.number
    for expected in (
        "Платёжный документ (квитанция)",
        "за ноябрь 2026 г.",
        "ООО «УК Заречье»",
        "6950123456 / 695001001",
        "Тверское отделение № 8607 ПАО Сбербанк",
        "042809679",
        "30101810700000000679",
        "40702810763000001234",
        f"Лицевой счёт № {number}",
        seeded.demo.debtor.address,
        "Отопление 3 408,96 ₽ 0,00 ₽ 3 408,96 ₽",
        "Долг на начало периода 24 618,48 ₽",
        "Итого к оплате: 33 270,18 ₽",
        f"Назначение платежа: Оплата по л/с {number} за 11.2026",
    ):
        assert expected in text, expected


async def test_a_supplier_without_bank_details_gets_a_receipt_without_qr(
    db: Database, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = await seed_linked(db, clock, 900, ("debtor",))
    async with db.session_maker() as session:
        await session.execute(update(Supplier).values(bic="", settlement_account=""))
        await session.commit()
    renderer = Renderer(workers=0)
    for _ in range(2):
        async with UnitOfWork(db.session_maker) as uow:
            service = ReceiptService(uow, clock, renderer, BalanceService(uow, clock, renderer))
            with caplog.at_level(logging.WARNING, "kabinet.render"):
                result = await service.render(
                    await service.draft(900, seeded.ids["debtor"], None, ReceiptKind.DUE)
                )
        assert result.file is not None
        assert result.file.payload is None and result.file.qr_png is None
        text = _text(result.file.pdf)
        assert "QR-код для оплаты не сформирован" in text and "БИК, расчётный счёт" in text
        assert "Итого к оплате: 33 270,18 ₽" in text
        assert (
            zxingcpp.read_barcodes(
                pypdfium2.PdfDocument(result.file.pdf)[0].render(scale=2).to_pil()
            )
            == []
        )
    warnings = [r for r in caplog.records if "lacks payment details" in r.getMessage()]
    assert len(warnings) == 1  # operators are told once, not per receipt


async def test_nothing_due_when_overpaid(db: Database, clock: FrozenClock) -> None:
    _, result = await _receipt(db, clock, "overpaid", ReceiptKind.DUE)
    assert result.outcome is ReceiptOutcome.NOTHING_DUE


async def test_no_receipt_without_charges(db: Database, clock: FrozenClock) -> None:
    _, result = await _receipt(db, clock, "no_charges", ReceiptKind.SUM, amount=Decimal(100))
    assert result.outcome is ReceiptOutcome.NO_CHARGES


async def test_a_typed_sum_and_one_service(db: Database, clock: FrozenClock) -> None:
    _, result = await _receipt(db, clock, "overpaid", ReceiptKind.SUM, amount=Decimal("150.5"))
    assert result.file is not None and "|Sum=15050|" in (result.file.payload or "")
    assert "Сумма платежа: 150,50 ₽" in _text(result.file.pdf)


async def test_a_worker_process_renders_the_same_pdf(db: Database, clock: FrozenClock) -> None:
    seeded = await seed_linked(db, clock, 900, ("debtor",))
    async with UnitOfWork(db.session_maker) as uow:
        statement = await BalanceService(uow, clock).statement(900, seeded.ids["debtor"])
    assert statement is not None
    from bot.services.receipts.service import receipt_data

    data = receipt_data(statement, ReceiptKind.DUE, now=clock.now())
    assert data is not None
    renderer = Renderer(workers=1)
    try:
        rendered = await renderer.run(document.render, data)
    finally:
        renderer.close()
    assert rendered.pdf.startswith(b"%PDF") and rendered.qr_png is not None
    assert rendered.payload == EXPECTED.replace("10200274", seeded.demo.debtor.number)
    assert "Итого к оплате: 33 270,18 ₽" in _text(rendered.pdf)


async def test_the_dispatcher_stops_the_workers_at_shutdown(
    make_settings: Callable[..., Settings], db: Database, clock: FrozenClock
) -> None:
    from bot.app import create_dispatcher
    from tests.support.harness import BotHarness

    renderer = Renderer(workers=1)
    dp = create_dispatcher(make_settings(render_workers=1), db, clock=clock, renderer=renderer)
    assert await renderer.run(len, b"abc") == 3  # the pool is up
    assert renderer._pool is not None
    await dp.emit_shutdown(bot=BotHarness(dp).bot)
    assert renderer._pool is None
