"""Receipts: a PDF payment document with a ГОСТ Р 56042-2014 QR code, rendered off the loop."""

from bot.services.balance.render import Renderer
from bot.services.receipts.service import (
    ReceiptDraft,
    ReceiptFile,
    ReceiptKind,
    ReceiptOutcome,
    ReceiptResult,
    ReceiptService,
)

__all__ = [
    "ReceiptDraft",
    "ReceiptFile",
    "ReceiptKind",
    "ReceiptOutcome",
    "ReceiptResult",
    "ReceiptService",
    "Renderer",
]
