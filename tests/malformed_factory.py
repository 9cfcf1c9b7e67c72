"""The malformed-package corpus, built at test time from tests/package_factory.py (copy its folder and
break it), each case with the exact outcome the importer must give (table-driven: see
tests/test_import_corpus.py).

A case is ``Case(name, build, expect)``: ``build(base, work) -> path`` makes the package (a folder, a
.zip or an .xlsx) from the intact folder ``base`` inside ``work``; ``expect`` is either
``Refused(key, file, column)`` or ``Accepted(tables, rejects)`` where ``tables`` maps a table to
(loaded, rejected, ignored columns) and ``rejects`` is the whole rejects report as
(file, row, column, value, reason) tuples, rows numbered as a spreadsheet shows them (header = 1).
"""
from __future__ import annotations

import csv
import io
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from tests.package_factory import build as build_base

# payments.csv columns: payment_id, fund_code, project_code, id_number, name, village_code, amount, paid_date, period
PAY = {c: i for i, c in enumerate(["payment_id", "fund_code", "project_code", "id_number", "name", "village_code",
                                   "amount", "paid_date", "period"])}


@dataclass(frozen=True)
class Refused:
    key: str
    file: str
    column: str = ""


@dataclass(frozen=True)
class Accepted:
    tables: dict = field(default_factory=dict)          # table -> (loaded, rejected, ignored columns)
    rejects: tuple = ()                                  # (file, row, column, value, reason)
    ignored_files: tuple = ()
    check: Callable | None = None                        # extra check(summary) for what a tuple cannot say


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path, Path], Path]
    expect: object


# --- helpers -------------------------------------------------------------------------------------
def copy(base: Path, work: Path) -> Path:
    dst = work / "pkg"
    shutil.copytree(base, dst)
    return dst


def read_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def edit(table: str, fn: Callable[[list[list[str]]], None]):
    """A builder that copies the base package and lets ``fn`` change ``table``'s rows (header = rows[0])."""
    def build(base: Path, work: Path) -> Path:
        pkg = copy(base, work)
        rows = read_rows(pkg / f"{table}.csv")
        fn(rows)
        write_rows(pkg / f"{table}.csv", rows)
        return pkg
    return build


def set_cell(row: int, col: str, value: str, table_cols=PAY):
    def fn(rows):
        rows[row - 1][table_cols[col]] = value        # row as the spreadsheet numbers it (header = 1)
    return fn


def raw_bytes(table: str, fn: Callable[[bytes], bytes]):
    def build(base: Path, work: Path) -> Path:
        pkg = copy(base, work)
        p = pkg / f"{table}.csv"
        p.write_bytes(fn(p.read_bytes()))
        return pkg
    return build


def zipped(extra: dict[str, bytes] | None = None, inner: Callable | None = None):
    def build(base: Path, work: Path) -> Path:
        pkg = (inner or copy)(base, work)
        out = work / "package.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(pkg.iterdir()):
                zf.write(f, f"export/{f.name}")
            for name, data in (extra or {}).items():
                zf.writestr(name, data)
        return out
    return build


def workbook(mutate: Callable[[dict], None] | None = None):
    def build(base: Path, work: Path) -> Path:
        sheets = {f.stem: pd.read_csv(f, dtype=str, keep_default_na=False) for f in sorted(base.glob("*.csv"))}
        if mutate:
            mutate(sheets)
        out = work / "package.xlsx"
        with pd.ExcelWriter(out, engine="openpyxl") as xw:
            for name, df in sheets.items():
                df.to_excel(xw, sheet_name=name, index=False)
        return out
    return build


def _zip_bomb(base: Path, work: Path) -> Path:
    out = work / "bomb.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(base / "manifest.csv", "manifest.csv")
        with zf.open("payments.csv", "w") as fh:              # 40 MB of zeros: ~40 KB packed
            block = b"0" * (1 << 20)
            for _ in range(40):
                fh.write(block)
    return out


def _truncated_zip(base: Path, work: Path) -> Path:
    z = zipped()(base, work)
    data = z.read_bytes()
    z.write_bytes(data[: len(data) // 2])
    return z


def _too_many_files(base: Path, work: Path) -> Path:
    pkg = copy(base, work)
    for i in range(70):
        (pkg / f"note{i:02d}.txt").write_text("x")
    return pkg


def _gbk(base: Path, work: Path) -> Path:
    pkg = copy(base, work)
    for t in ("people", "payments"):
        p = pkg / f"{t}.csv"
        p.write_bytes(p.read_text(encoding="utf-8").encode("gb18030"))
    return pkg


def _utf16(base: Path, work: Path) -> Path:
    pkg = copy(base, work)
    p = pkg / "people.csv"
    p.write_bytes(p.read_text(encoding="utf-8").encode("utf-16"))
    return pkg


def _misnamed(base: Path, work: Path) -> Path:
    pkg = copy(base, work)
    (pkg / "payments.csv").rename(pkg / "payment.csv")
    return pkg


def _drop(table: str):
    def build(base, work):
        pkg = copy(base, work)
        (pkg / f"{table}.csv").unlink()
        return pkg
    return build


def _drop_column(table: str, col: str):
    def build(base, work):
        pkg = copy(base, work)
        df = pd.read_csv(pkg / f"{table}.csv", dtype=str, keep_default_na=False).drop(columns=[col])
        df.to_csv(pkg / f"{table}.csv", index=False)
        return pkg
    return build


def _manifest(rows):
    def build(base, work):
        pkg = copy(base, work)
        write_rows(pkg / "manifest.csv", [["key", "value"], *rows])
        return pkg
    return build


def _not_a_package(base: Path, work: Path) -> Path:
    out = work / "package.rar"
    out.write_bytes(b"Rar!\x1a\x07\x00")
    return out


def _broken_xlsx(base: Path, work: Path) -> Path:
    out = work / "package.xlsx"
    out.write_bytes(b"PK\x03\x04 this is not a workbook" * 10)
    return out


def _bad_person_id(rows):
    idn = rows[1][0]
    rows[1][0] = idn[:17] + ("0" if idn[17] != "0" else "1")


def _bad_payment_id(rows):
    idn = rows[1][PAY["id_number"]]
    rows[1][PAY["id_number"]] = idn[:17] + ("0" if idn[17] != "0" else "1")


def _extra_field_then_bad_date(rows):
    rows[4].append("surplus")                      # row 5: one field too many
    rows[6][PAY["paid_date"]] = "2023-13-01"       # row 7: bad month; numbered right after the misshapen row


def _multiline_then_bad_amount(rows):
    rows[1][7] = "衡阳水利\n建设有限公司"            # ledger row 2 spans two lines in the file
    rows[3][6] = "12,000"                          # ledger row 4: still row 4 (records, not lines)


def _duplicate_key(rows):
    rows[10][PAY["payment_id"]] = rows[1][PAY["payment_id"]]   # row 11 repeats row 2's key


def _extra_column(rows):
    rows[0].append("remark")
    for r in rows[1:]:
        r.append("备注")


def _dup_header(rows):
    rows[0][PAY["period"]] = "amount"


def _short_region_codes(rows):
    rows[1][1] = "430421"                        # complaints row 2: a county given by its 6 digits


def _bad_bool(rows):
    rows[2][5] = "maybe"


def _xlsx_bad_date(sheets):
    sheets["payments"].loc[2, "paid_date"] = "2023/01/15"       # sheet row 4


def _xlsx_unknown_sheet(sheets):
    sheets["Sheet1"] = pd.DataFrame({"a": ["1"]})


def _not_child(rows):
    rows[2][3] = "430422000000"                  # A2 (row 3): 衡阳市 -> 衡南县 is fine; make it go up instead
    rows[2][2], rows[2][3] = "430421000000", "430400000000"


def _truncate_last_line(data: bytes) -> bytes:
    return data.rstrip(b"\n")[:-20]              # the export stopped in the middle of the last record


def _bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


P40 = 40


def _last_payment_row(base: Path) -> list[str]:
    return read_rows(base / "payments.csv")[-1]


CASES: list[Case] = [
    Case("intact", copy, Accepted({"payments": (40, 0, []), "people": (20, 0, []), "ledger": (3, 0, [])})),
    # --- structural: the whole package is refused ----------------------------------------------
    Case("missing_manifest", _drop("manifest"), Refused("package.missing_manifest", "manifest.csv")),
    Case("manifest_without_as_of", _manifest([["source", "x"]]), Refused("package.missing_as_of", "manifest.csv", "as_of_date")),
    Case("manifest_bad_as_of", _manifest([["as_of_date", "2024/06/30"]]), Refused("package.bad_as_of", "manifest.csv", "as_of_date")),
    Case("missing_required_column", _drop_column("payments", "amount"), Refused("package.missing_column", "payments.csv", "amount")),
    Case("unknown_table", _misnamed, Refused("package.unknown_table", "payment.csv")),
    Case("utf16_encoding", _utf16, Refused("package.unreadable_encoding", "people.csv")),
    Case("empty_file", raw_bytes("funds", lambda b: b""), Refused("package.empty_file", "funds.csv")),
    Case("duplicate_header", edit("payments", _dup_header), Refused("package.duplicate_column", "payments.csv", "amount")),
    Case("zip_bomb", _zip_bomb, Refused("package.zip_bomb", "bomb.zip:payments.csv")),
    Case("truncated_zip", _truncated_zip, Refused("package.unreadable_zip", "package.zip")),
    Case("too_many_files", _too_many_files, Refused("package.too_many_files", "pkg")),
    Case("not_a_package", _not_a_package, Refused("package.unsupported_file", "package.rar")),
    Case("broken_xlsx", _broken_xlsx, Refused("package.unreadable_xlsx", "package.xlsx")),
    Case("xlsx_unknown_sheet", workbook(_xlsx_unknown_sheet), Refused("package.unknown_table", "package.xlsx:Sheet1")),
    # --- encodings and containers that must read correctly ---------------------------------------
    Case("gbk", _gbk, Accepted({"people": (20, 0, []), "payments": (40, 0, [])},
                               check=lambda s: s.tables["people"].encoding == "gb18030")),
    Case("utf8_bom", raw_bytes("payments", _bom), Accepted({"payments": (40, 0, [])},
                                                           check=lambda s: s.tables["payments"].encoding == "utf-8")),
    Case("zip_with_junk", zipped({"export/README.txt": b"exported by hand", "__MACOSX/export/._payments.csv": b"\0"}),
         Accepted({"payments": (40, 0, []), "invoices": (2, 0, [])}, ignored_files=("export/README.txt",))),
    Case("xlsx_bad_date", workbook(_xlsx_bad_date),
         Accepted({"payments": (39, 1, [])}, (("package.xlsx:payments", 4, "paid_date", "2023/01/15", "reject.bad_date"),))),
    Case("short_region_code", edit("complaints", _short_region_codes), Accepted({"complaints": (2, 0, [])})),
    # --- row problems: rejects, the rest loads ---------------------------------------------------
    Case("bad_date", edit("payments", set_cell(3, "paid_date", "2023-02-30")),
         Accepted({"payments": (39, 1, [])}, (("payments.csv", 3, "paid_date", "2023-02-30", "reject.bad_date"),))),
    Case("thousands_separator", edit("payments", set_cell(5, "amount", "1,000.00")),
         Accepted({"payments": (39, 1, [])}, (("payments.csv", 5, "amount", "1,000.00", "reject.bad_amount"),))),
    Case("currency_sign", edit("payments", set_cell(6, "amount", "¥500")),
         Accepted({"payments": (39, 1, [])}, (("payments.csv", 6, "amount", "¥500", "reject.bad_amount"),))),
    Case("negative_amount", edit("payments", set_cell(7, "amount", "-500.00")),
         Accepted({"payments": (39, 1, [])}, (("payments.csv", 7, "amount", "-500.00", "reject.negative"),))),
    Case("unknown_region", edit("payments", set_cell(8, "village_code", "430421999999")),
         Accepted({"payments": (39, 1, [])}, (("payments.csv", 8, "village_code", "430421999999", "reject.unknown_region"),))),
    Case("duplicate_key", edit("payments", _duplicate_key),
         Accepted({"payments": (39, 1, [])}, (("payments.csv", 11, "payment_id", "P0001", "reject.duplicate_key"),))),
    Case("unknown_fund", edit("payments", set_cell(9, "fund_code", "F-XX")),
         Accepted({"payments": (39, 1, [])}, (("payments.csv", 9, "fund_code", "F-XX", "reject.unknown_funds"),))),
    Case("unknown_ledger_entry", edit("invoices", set_cell(3, "entry_id", "L9", {"entry_id": 1})),
         Accepted({"invoices": (1, 1, [])}, (("invoices.csv", 3, "entry_id", "L9", "reject.unknown_ledger"),))),
    Case("allocation_not_to_a_child", edit("allocations", _not_child),
         Accepted({"allocations": (4, 1, [])}, (("allocations.csv", 3, "to_region_code", "430400000000",
                                                 "reject.not_a_child_region"),))),
    Case("bad_check_digit_in_people", edit("people", _bad_person_id),
         Accepted({"people": (19, 1, [])}, check=lambda s: [r.reason for r in s.rejects] == ["reject.bad_id_checksum"]
                  and s.rejects[0].row == 2 and s.rejects[0].column == "id_number")),
    Case("bad_check_digit_in_payments_is_kept", edit("payments", _bad_payment_id),
         Accepted({"payments": (40, 0, [])}, check=lambda s: s.tables["payments"].bad_id_kept == 1)),
    Case("bad_boolean", edit("people", _bad_bool),
         Accepted({"people": (19, 1, [])}, check=lambda s: (s.rejects[0].row, s.rejects[0].column, s.rejects[0].value,
                                                           s.rejects[0].reason) == (3, "poverty_registered", "maybe",
                                                                                    "reject.bad_bool"))),
    Case("extra_column_ignored", edit("payments", _extra_column), Accepted({"payments": (40, 0, ["remark"])})),
    Case("wrong_field_count", edit("payments", _extra_field_then_bad_date),
         Accepted({"payments": (38, 2, [])}, check=lambda s: [(r.row, r.column, r.reason) for r in s.rejects] ==
                  [(5, "", "reject.wrong_field_count"), (7, "paid_date", "reject.bad_date")])),
    Case("multiline_value_rows_are_records", edit("ledger", _multiline_then_bad_amount),
         Accepted({"ledger": (2, 1, [])}, (("ledger.csv", 4, "amount", "12,000", "reject.bad_amount"),))),
    Case("truncated_csv", raw_bytes("payments", _truncate_last_line),
         Accepted({"payments": (39, 1, [])}, check=lambda s: [(r.row, r.reason) for r in s.rejects] ==
                  [(41, "reject.wrong_field_count")])),
]


def build_case(case: Case, base: Path, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    return case.build(base, work)


def base_package(folder: Path) -> Path:
    if not (folder / "manifest.csv").exists():
        build_base(folder)
    return folder


def replicate(base: Path, out: Path, factor: int) -> int:
    """A big package for throughput measurements: the base package's payments, people and ledger
    repeated ``factor`` times under new keys (the other tables as they are). Returns the row count."""
    from core.idnumber import make_id
    import datetime as dt
    shutil.copytree(base, out)
    pay = pd.read_csv(base / "payments.csv", dtype=str, keep_default_na=False)
    n = len(pay)
    big = pay.loc[pay.index.repeat(factor)].reset_index(drop=True)
    big["payment_id"] = [f"P{i:09d}" for i in range(len(big))]
    big.to_csv(out / "payments.csv", index=False)
    ppl = pd.read_csv(base / "people.csv", dtype=str, keep_default_na=False)
    reps = max(1, factor // 10)
    people = ppl.loc[ppl.index.repeat(reps)].reset_index(drop=True)
    people["id_number"] = [make_id("430421", dt.date(1940 + i % 60, 1 + i % 12, 1 + i % 28), i % 1000)
                           for i in range(len(people))]
    people = people.drop_duplicates("id_number")
    people.to_csv(out / "people.csv", index=False)
    led = pd.read_csv(base / "ledger.csv", dtype=str, keep_default_na=False)
    led = led.loc[led.index.repeat(reps)].reset_index(drop=True)
    led["entry_id"] = [f"L{i:08d}" for i in range(len(led))]
    led["project_code"] = ""
    led.to_csv(out / "ledger.csv", index=False)
    (out / "invoices.csv").unlink()
    return n * factor + len(people) + len(led)
