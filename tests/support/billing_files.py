"""Builders of billing rows and CSV files for the billing tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from bot.services.billing import Kind, column_names

SUPPLIER = "uk"
GAS = "gas"


def supplier(**over: Any) -> dict[str, str]:
    row = {
        "code": SUPPLIER,
        "name": "ООО «УК Тест»",
        "account_pattern": r"\d{8}",
        "account_hint": "8 цифр",
        "window_start_day": "15",
        "window_end_day": "25",
        "inn": "7701234567",
        "kpp": "770101001",
        "bank_name": "ПАО Сбербанк",
        "bic": "044525225",
        "corr_account": "30101810400000000225",
        "settlement_account": "40702810938000012345",
    }
    row.update({k: str(v) for k, v in over.items()})
    return row


def gas_supplier(**over: Any) -> dict[str, str]:
    return supplier(**{"code": GAS, "name": "Газ", "account_pattern": r"\d{10}", **over})


def account(number: str = "10000001", **over: Any) -> dict[str, str]:
    row = {
        "supplier_code": SUPPLIER,
        "account_number": number,
        "address": "г. Тверь, ул. Советская, д. 1, кв. 2",
        "holder_name": "Иванов Иван Иванович",
        "phones": "8 (916) 123-45-67",
        "access_code": "",
    }
    row.update({k: str(v) for k, v in over.items()})
    return row


def charge(number: str = "10000001", **over: Any) -> dict[str, str]:
    row = {
        "supplier_code": SUPPLIER,
        "account_number": number,
        "period": "2026-10",
        "service": "Холодное водоснабжение",
        "charged": "312.45",
        "paid": "312.45",
    }
    row.update({k: str(v) for k, v in over.items()})
    return row


def payment(number: str = "10000001", **over: Any) -> dict[str, str]:
    row = {
        "supplier_code": SUPPLIER,
        "account_number": number,
        "paid_at": "2026-11-05",
        "amount": "312.45",
        "source": "Сбербанк Онлайн",
    }
    row.update({k: str(v) for k, v in over.items()})
    return row


def meter(number: str = "10000001", **over: Any) -> dict[str, str]:
    row = {
        "supplier_code": SUPPLIER,
        "account_number": number,
        "serial": "ХВ1234567",
        "service": "Холодная вода",
        "zones": "1",
        "digits": "5",
        "decimals": "3",
        "verification_due": "2030-01-31",
        "last_t1": "123.456",
        "last_t2": "",
        "last_t3": "",
        "last_date": "2026-11-10",
    }
    row.update({k: str(v) for k, v in over.items()})
    return row


def csv_text(kind: Kind, rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or column_names(kind), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def write_csv(
    path: Path, kind: Kind, rows: list[dict[str, str]], columns: list[str] | None = None
) -> Path:
    path.write_text(csv_text(kind, rows, columns), encoding="utf-8")
    return path


#: accounts as Excel in Russia saves them: ';'-separated, CRLF, empty rows left at the end
#: (encode it in cp1251 for "CSV (разделители — запятые)", in UTF-8 for "CSV UTF-8")
EXCEL_ACCOUNTS = (
    "supplier_code;account_number;address;holder_name;phones;access_code\r\n"
    "uk;10000001;г. Тверь, ул. Советская, д. 1, кв. 2;Иванов Иван Иванович;8 (916) 123-45-67;\r\n"
    'uk;10000002;"пр-т Победы; д. 41";Попова Анна;"+7 925 111-22-33; 8 903 555-00-11";7319\r\n'
    ";;;;;\r\n"
    ";;;;;\r\n"
)
