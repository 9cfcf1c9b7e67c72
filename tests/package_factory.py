"""A small hand-made data package for tests: two counties of Hengyang (衡阳县 430421, 衡南县 430422),
two villages each, with payments, allocations, ledger, invoices, projects and complaints whose
totals the tests know by construction."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from core.idnumber import make_id

AS_OF = "2024-06-30"
V1, V2 = "430421100203", "430421100204"     # 衡阳县 西渡镇 villages
V3, V4 = "430422002029", "430422002030"     # 衡南县 车江街道 communities
T1, T3 = "430421100000", "430422002000"
C1, C3 = "430421000000", "430422000000"
CITY, PROV = "430400000000", "430000000000"


def person(county6: str, n: int) -> str:
    return make_id(county6, dt.date(1950 + n % 40, 1 + n % 12, 1 + n % 28), n % 1000)


def _write(folder: Path, name: str, header: list[str], rows: list[list]) -> None:
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def build(folder: Path, synthetic: bool = True) -> dict:
    """Writes the package; returns the expected figures."""
    folder.mkdir(parents=True, exist_ok=True)
    from pipeline.geo.reference import load_divisions
    div = load_divisions().set_index("code")
    for v in (V1, V2, V3, V4):
        assert v in div.index, v
    _write(folder, "manifest", ["key", "value"], [["as_of_date", AS_OF], ["source", "tests"],
                                                    ["description", "hand-made"], ["synthetic", "1" if synthetic else "0"]])
    _write(folder, "regions", ["code", "name", "level", "parent_code", "households", "population"],
           [[v, div.loc[v, "name"], "village", div.loc[v, "parent_code"], 100, 300] for v in (V1, V2, V3, V4)])
    _write(folder, "funds", ["fund_code", "name", "category", "year", "issuing_region_code", "total_amount",
                             "standard_amount", "payment_unit"],
           [["F-DB", "2023年农村低保资金", "subsistence_allowance", 2023, PROV, "100000.00", "500.00", "person"],
            ["F-WS", "安全饮水工程", "drinking_water", 2023, C1, "50000.00", "", "project"]])
    villages = [(V1, C1[:6]), (V2, C1[:6]), (V3, C3[:6]), (V4, C3[:6])]
    people, payments = [], []
    pid = 0
    for vi, (v, c6) in enumerate(villages):
        for k in range(5):
            idn = person(c6, vi * 10 + k + 1)
            people.append([idn, f"张{'三四五六七'[k]}{vi}", v, f"H{vi}{k // 2}", "户主" if k % 2 == 0 else "配偶", 1])
            for month in (1, 2):
                pid += 1
                payments.append([f"P{pid:04d}", "F-DB", "", idn, f"张{'三四五六七'[k]}{vi}", v, "500.00",
                                 f"2023-{month:02d}-15", f"2023-{month:02d}"])
    _write(folder, "people", ["id_number", "name", "village_code", "household_no", "relation_to_head", "poverty_registered"], people)
    _write(folder, "payments", ["payment_id", "fund_code", "project_code", "id_number", "name", "village_code",
                                "amount", "paid_date", "period"], payments)
    # allocations: province -> city -> counties -> townships (what the villages were paid)
    _write(folder, "allocations", ["allocation_id", "fund_code", "from_region_code", "to_region_code", "amount", "allocated_date"],
           [["A1", "F-DB", PROV, CITY, "20000.00", "2023-01-05"],
            ["A2", "F-DB", CITY, C1, "10000.00", "2023-01-08"], ["A3", "F-DB", CITY, C3, "10000.00", "2023-01-08"],
            ["A4", "F-DB", C1, T1, "10000.00", "2023-01-10"], ["A5", "F-DB", C3, T3, "10000.00", "2023-01-10"]])
    _write(folder, "projects", ["project_code", "fund_code", "region_code", "name", "contractor_name", "contractor_credit_code",
                                "contract_amount", "planned_quantity", "completed_quantity", "unit", "start_date", "end_date",
                                "acceptance_date"],
           [["PRJ1", "F-WS", V1, "果塘村安全饮水工程", "衡阳水利建设有限公司", "", "40000.00", 13, 13, "口",
             "2023-03-01", "2023-08-01", "2023-08-20"]])
    _write(folder, "ledger", ["entry_id", "village_code", "entry_date", "booked_date", "direction", "category", "amount",
                              "counterparty_name", "counterparty_id", "voucher_no", "collective_approval", "project_code"],
           [["L1", V1, "2023-02-01", "2023-02-03", "income", "上级补助收入", "30000.00", "西渡镇财政所", "", "V001", 1, ""],
            ["L2", V1, "2023-09-01", "2023-09-02", "expense", "工程支出", "40000.00", "衡阳水利建设有限公司", "", "V002", 1, "PRJ1"],
            ["L3", V3, "2023-04-01", "2023-04-02", "expense", "办公费", "800.00", "文具店", "", "V101", 0, ""]])
    _write(folder, "invoices", ["invoice_id", "entry_id", "invoice_code", "invoice_no", "issuer_name", "issuer_credit_code",
                                "amount", "issue_date"],
           [["I1", "L2", "043002300111", "00000001", "衡阳水利建设有限公司", "", "40000.00", "2023-09-01"],
            ["I2", "L3", "043002300111", "00000002", "文具店", "", "800.00", "2023-04-01"]])
    _write(folder, "complaints", ["complaint_id", "region_code", "channel", "category", "received_date", "accepted_date",
                                  "closed_date", "extension_approved", "substantiated", "amount_involved", "fund_code",
                                  "project_code", "summary", "complainant_name", "complainant_contact"],
           [["Q1", V1, "online", "livelihood_funds", "2023-03-01", "2023-03-03", "2023-04-01", 0, 1, "1000.00", "F-DB", "",
             "反映低保评定不公", "李秘密", "13800000000"],
            ["Q2", V3, "letter", "village_finance", "2023-05-01", "2023-05-05", "", 0, "", "", "", "",
             "村财务不公开", "王保密", "13900000000"]])
    _write(folder, "deaths", ["id_number", "date_of_death"], [])
    return {"paid_total": 20 * 2 * 500.0, "paid_c1": 10 * 500.0 * 2 / 2 * 1, "n_payments": 40,
            "households_reached": 4 * 3, "complaints_received": 2, "complaints_closed": 1}
