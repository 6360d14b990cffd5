"""The receipt as a PDF page (fpdf2) and its QR code as a PNG (segno).

CPU work only, no I/O, no event loop: `render` runs in a worker (bot/services/balance/
render.py). Cyrillic and ₽ come from DejaVu Sans, the TTF font matplotlib ships inside its
wheel, so no system font is needed. The document is in Russian: it is a payment document
of a Russian supplier that a bank or a post office clerk may read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import segno

from bot.services.balance.money import format_money
from bot.services.balance.statement import Payee, ServiceLine
from bot.services.receipts.gost import PaymentOrder, make_symbol, payload

if TYPE_CHECKING:
    from fpdf import FPDF

LOCALE = "ru"
#: pixels per QR module of the picture sent beside the PDF (a symbol of ~70 modules → ~700 px)
QR_PNG_SCALE = 10
QR_MM = 52


@cache
def font_paths() -> tuple[str, str]:
    """DejaVu Sans (regular, bold) from matplotlib's package data."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    for path in (regular, bold):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: reinstall matplotlib")
    return str(regular), str(bold)


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    charged: Decimal | None
    paid: Decimal | None
    due: Decimal


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on the page, already decided by the receipt service."""

    title: str
    period_label: str
    payee: Payee
    account_number: str
    holder_name: str
    address: str
    lines: tuple[ReceiptLine, ...]
    total_label: str
    total: Decimal
    purpose: str
    order: PaymentOrder | None  # what the QR code says; None: no QR (see no_qr_reason)
    no_qr_reason: str | None
    issued: str  # "22.11.2026 12:00 (МСК)"
    payer_inn: str = ""  # an organisation as the payer (issue 14)

    @staticmethod
    def line_of(line: ServiceLine) -> ReceiptLine:
        return ReceiptLine(line.service, line.charged, line.paid, line.due)


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else format_money(amount, LOCALE)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    qr_png: bytes | None
    payload: str | None


def qr_png(symbol: segno.QRCode) -> bytes:
    out = io.BytesIO()
    symbol.save(out, kind="png", scale=QR_PNG_SCALE, border=4)
    return out.getvalue()


def _draw_qr(pdf: FPDF, symbol: segno.QRCode, x: float, y: float, size: float) -> None:
    """The symbol as vector squares (crisp at any zoom or printer), a run per row."""
    rows = [list(row) for row in symbol.matrix_iter(scale=1, border=4)]
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(x + start * module, y + r * module, (c - start) * module, module, "F")
            else:
                c += 1


def _payee_block(pdf: FPDF, payee: Payee) -> None:
    rows = [
        ("Получатель", payee.name),
        ("ИНН / КПП", f"{payee.inn or '—'} / {payee.kpp or '—'}"),
        ("Банк", payee.bank_name or "—"),
        ("БИК", payee.bic or "—"),
        ("Корр. счёт", payee.corr_account or "—"),
        ("Расч. счёт", payee.settlement_account or "—"),
    ]
    for label, value in rows:
        pdf.set_font("DejaVu", "", 9)
        pdf.cell(28, 5, label)
        pdf.multi_cell(pdf.epw - QR_MM - 34, 5, value, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, data: ReceiptData) -> None:
    pdf.set_font("DejaVu", "", 9)
    widths = (82, 33, 33, 34)
    with pdf.table(
        col_widths=widths, text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"), line_height=6
    ) as table:
        header = table.row()
        for title in ("Услуга", "Начислено", "Оплачено", "К оплате"):
            header.cell(title)
        for line in data.lines:
            row = table.row()
            row.cell(line.label)
            row.cell(_money(line.charged))
            row.cell(_money(line.paid))
            row.cell(_money(line.due))


def _page(data: ReceiptData, symbol: segno.QRCode | None) -> bytes:
    from fpdf import FPDF

    regular, bold = font_paths()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(f"{data.title} {data.account_number} {data.period_label}")
    pdf.set_creator("Kabinet")
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, data.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.cell(0, 6, f"за {data.period_label}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    top = pdf.get_y()
    _payee_block(pdf, data.payee)
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 6, f"Лицевой счёт № {data.account_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    payer = (("Плательщик", data.holder_name), ("ИНН", data.payer_inn), ("Адрес", data.address))
    for label, value in payer:
        if value:
            pdf.cell(28, 5, label)
            pdf.multi_cell(pdf.epw - QR_MM - 34, 5, value, new_x="LMARGIN", new_y="NEXT")
    below_qr = top + QR_MM + 8
    if symbol is not None:
        _draw_qr(pdf, symbol, pdf.w - pdf.r_margin - QR_MM, top, QR_MM)
        pdf.set_xy(pdf.w - pdf.r_margin - QR_MM, top + QR_MM)
        pdf.set_font("DejaVu", "", 7)
        pdf.multi_cell(QR_MM, 3.5, "Оплата по QR-коду в приложении банка", align="C")
    pdf.set_y(max(pdf.get_y(), below_qr if symbol is not None else 0) + 3)
    _table(pdf, data)
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, f"{data.total_label}: {_money(data.total)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, f"Назначение платежа: {data.purpose}", new_x="LMARGIN", new_y="NEXT")
    if data.no_qr_reason:
        pdf.ln(2)
        pdf.multi_cell(0, 5, data.no_qr_reason, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 7)
    pdf.multi_cell(0, 4, f"Сформировано в Telegram-боте {data.issued}.", new_x="LMARGIN")
    return bytes(pdf.output())


def render(data: ReceiptData) -> Rendered:
    """The PDF and, when the receipt has a payment order, the QR code's text and picture.

    The payload is fitted (gost.payload) and encoded once, here in the worker: segno's
    encoding is tens of milliseconds of CPU that must not run on the event loop."""
    if data.order is None:
        return Rendered(_page(data, None), None, None)
    text = payload(data.order)
    symbol = make_symbol(text)
    return Rendered(_page(data, symbol), qr_png(symbol), text)
