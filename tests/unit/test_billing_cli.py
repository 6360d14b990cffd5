"""run_bot.py import / export-readings / demo-data: exit codes and messages."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import cli
from bot.cli_billing import PROGRESS_EVERY, _Progress
from bot.services.billing import Kind
from tests.support.billing_files import (
    EXCEL_ACCOUNTS,
    account,
    charge,
    meter,
    supplier,
    write_csv,
)

Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Invoke:
    monkeypatch.chdir(tmp_path)  # no .env from the project
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("BOT_TOKEN", raising=False)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_import_export_round_trip(run: Invoke, tmp_path: Path) -> None:
    files = {
        "suppliers": write_csv(tmp_path / "s.csv", Kind.SUPPLIERS, [supplier()]),
        "accounts": write_csv(tmp_path / "a.csv", Kind.ACCOUNTS, [account()]),
        "charges": write_csv(tmp_path / "c.csv", Kind.CHARGES, [charge()]),
        "meters": write_csv(
            tmp_path / "m.csv",
            Kind.METERS,
            [meter(), meter(serial="Э1", zones=2, last_t1="10", last_t2="5,5")],
        ),
    }
    for kind, path in files.items():
        code, out, _ = run("import", kind, str(path))
        assert code == 0
        assert out.startswith(f"{kind}: ")
        assert "inserted, 0 updated, 0 unchanged" in out
    code, out, _ = run("import", "meters", str(files["meters"]))
    assert (code, out) == (
        0,
        "meters: 2 rows — 0 inserted, 0 updated, 2 unchanged; readings 0 inserted, 0 updated "
        "(separator ',', encoding utf-8)\n",
    )

    code, out, _ = run("export-readings", "--period", "2026-11")
    assert code == 0
    assert out.splitlines() == [
        "supplier_code,account_number,serial,zone,value,submitted_at,source",
        "uk,10000001,ХВ1234567,1,123.456,2026-11-10T00:00:00+00:00,billing",
        "uk,10000001,Э1,1,10,2026-11-10T00:00:00+00:00,billing",
        "uk,10000001,Э1,2,5.5,2026-11-10T00:00:00+00:00,billing",
    ]
    target = tmp_path / "out.csv"
    code, out, err = run("export-readings", "--period", "2026-11", "--supplier", "uk",
                         "--output", str(target))  # fmt: skip
    assert (code, out) == (0, "")
    assert f"written to {target}" in err
    assert len(target.read_text(encoding="utf-8").splitlines()) == 4


def test_a_bad_file_exits_1_with_file_line_column(run: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", Kind.SUPPLIERS, [supplier(), supplier(inn="1")])
    code, out, err = run("import", "suppliers", str(path))
    assert code == 1
    assert out == ""
    assert f"{path}:3: inn: INN must be 10 or 12 digits" in err.splitlines()
    assert f"kabinet: {path} rejected: 1 error(s), nothing was imported" in err
    code, out, _ = run("export-readings", "--period", "2026-11", "--supplier", "uk")
    assert code == 1  # the supplier of the rejected file does not exist


def test_missing_file_and_bad_arguments(run: Invoke, tmp_path: Path) -> None:
    code, _, err = run("import", "accounts", str(tmp_path / "nope.csv"))
    assert code == 1
    assert "cannot read" in err and "no such file" in err
    code, _, err = run("export-readings", "--period", "11.2026")
    assert (code, err.strip()) == (1, "kabinet: export-readings: not a period YYYY-MM: '11.2026'")
    code, _, err = run("export-readings", "--period", "2026-11", "--supplier", "x")
    assert (code, err.strip()) == (1, "kabinet: export-readings: unknown supplier 'x'")
    with pytest.raises(SystemExit) as info:
        run("import", "users", "x.csv")
    assert info.value.code == 2


def test_a_windows_1251_excel_file(run: Invoke, tmp_path: Path) -> None:
    """Excel's «CSV (разделители — запятые)» in Russia: ';', Windows-1251, empty rows."""
    assert (
        run(
            "import", "suppliers", str(write_csv(tmp_path / "s.csv", Kind.SUPPLIERS, [supplier()]))
        )[0]
        == 0
    )
    path = tmp_path / "лицевые счета.csv"
    path.write_bytes(EXCEL_ACCOUNTS.encode("cp1251"))

    code, out, err = run("import", "accounts", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:2: file: not valid UTF-8 text: the file looks like Windows-1251 (cp1251, as "
        f"Excel in Russia saves CSV); import it with: python run_bot.py import accounts "
        f"'{path}' --encoding cp1251",
        f"kabinet: {path} rejected: 1 error(s), nothing was imported",
    ]

    code, out, err = run("import", "accounts", str(path), "--encoding", "cp1251")
    assert (code, err) == (0, "")
    assert out == (
        "accounts: 2 rows — 2 inserted, 0 updated, 0 unchanged (separator ';', encoding cp1251)\n"
    )
    code, out, _ = run("import", "accounts", str(path), "--encoding", "windows-1251")
    assert (code, out.split(" — ")[1]) == (
        0,
        "0 inserted, 0 updated, 2 unchanged (separator ';', encoding cp1251)\n",
    )


def test_an_unknown_encoding_is_a_usage_error(
    run: Invoke, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        run("import", "accounts", "x.csv", "--encoding", "koi8-r")
    assert info.value.code == 2
    assert (
        "unsupported encoding 'koi8-r': use utf-8 (the default) or cp1251"
        in capsys.readouterr().err
    )


def test_demo_data_twice(run: Invoke) -> None:
    code, out, _ = run("demo-data")
    assert code == 0
    assert "rows inserted or updated" in out
    assert "access code 73190482" in out
    code, out, _ = run("demo-data")
    assert code == 0
    assert "nothing changed" in out.splitlines()[0]


def test_plain_progress_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = _Progress("import accounts", stream)
    for _ in range(5):
        progress(PROGRESS_EVERY // 2 + 1)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "import accounts: 100,002 rows read",
        "import accounts: 200,004 rows read",
    ]
