"""A richer hand-made package for the drill-down pages (funds, townships, village, project, household).

衡阳县 (430421) with five townships, one village of 衡南县 (430422) for scope checks. Every figure the
tests assert is known by construction (see ``EXPECTED`` and the comments):

F-DB23  2023 低保, province, 500 per person and month, total 300,000
        province -> city 200,000; city -> 衡阳县 150,000, -> 衡南县 40,000
        衡阳县 -> 西渡镇 50,000, 集兵镇 40,000, 杉桥镇 30,000, and straight to 雷峰村 (井头镇) 10,000
        西渡镇 -> 壕塘 20,000, 春风 20,000
        paid: 壕塘 20,000, 春风 18,000, 江口 4,000 (no allocation: 西渡镇 paid it), 集兵镇 40,000,
        杉桥镇 15,000, 雷峰 10,000, 演陂镇 6,000 (no allocation: 衡阳县 paid it), 衡南县 40,000
        left: province 100,000, city 10,000, 衡阳县 14,000, 西渡镇 6,000, 春风 2,000, 杉桥镇 15,000
F-WS23  2023 安全饮水, 衡阳县, total 80,000: -> 壕塘 60,000; project PRJ-WS1 paid 30,000 + 24,000 from
        the ledger (left at 壕塘 6,000, at 衡阳县 20,000); accepted 2023-10-20
F-HR23  2023 危房改造, 衡阳县, 10,000 per household, total 30,000 -> 春风 30,000, paid to three households
        for project PRJ-HR1 (left 0)
F-DB24  2024 低保, province, total 100,000 -> city 50,000 -> 衡阳县 50,000 -> 西渡镇 50,000;
        paid 壕塘 10,000, 春风 2,000 (西渡镇 has 38,000 not yet disbursed: the year is not over at as-of)
"""
from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

from core.idnumber import make_id

AS_OF = "2024-09-30"
PROV, CITY = "430000000000", "430400000000"
C, C2 = "430421000000", "430422000000"
T1, T2, T3, T4, T5 = "430421100000", "430421101000", "430421103000", "430421104000", "430421105000"
T6 = "430422002000"
V1A, V1B, V1C = "430421100013", "430421100014", "430421100015"
V2A, V2B = "430421101200", "430421101201"
V3A, V4A, V5A = "430421103200", "430421104206", "430421105200"
V6 = "430422002029"

PERSONS = {V1A: 20, V1B: 18, V1C: 4, V2A: 20, V2B: 20, V3A: 15, V4A: 10, V5A: 6, V6: 40}
POPULATION = {v: 1000 for v in PERSONS}
HOUSEHOLDS = {v: 50 for v in PERSONS}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马胡朱郭何罗高林"
GIVEN = ["建国", "秀英", "桂兰", "志强", "小明", "海燕", "德华", "春梅", "国庆", "玉兰"]
EXPENSE_CATS = ["办公费", "工程支出", "管理费支出", "干部报酬", "招待费"]
PAYEES = ["衡阳县建材有限公司", "西渡镇文具店", "湖南蒸水劳务有限公司", "衡阳县印务公司"]

EXPECTED = {
    "left_2023": {PROV: 100000.0, CITY: 10000.0, C: 14000.0 + 20000.0, T1: 6000.0, V1B: 2000.0, T3: 15000.0,
                  V1A: 6000.0},
    "db23_left": {PROV: 100000.0, CITY: 10000.0, C: 14000.0, T1: 6000.0, V1A: 0.0, V1B: 2000.0, T2: 0.0,
                  T3: 15000.0, V4A: 0.0, C2: 0.0},
    "db23_paid_direct": {C: 6000.0, T1: 4000.0, V1A: 20000.0, V1B: 18000.0, T2: 40000.0, T3: 15000.0,
                         V4A: 10000.0, C2: 40000.0},
    "db24_pending": {T1: 38000.0},
    "complaints_per_10k": {T1: 10.0, T2: 5.0, T3: 0.0, T4: 60.0, T5: 0.0},
    "substantiation": {T1: 1.0, T2: 0.0, T4: 1.0},
}


def person(county6: str, n: int) -> str:
    return make_id(county6, dt.date(1950 + n % 45, 1 + n % 12, 1 + n % 28), n % 1000)


def name_of(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]


def _write(folder: Path, name: str, header: list[str], rows: list[list]) -> None:
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def village_people() -> dict[str, list[tuple[str, str, str]]]:
    """village -> [(id_number, name, household_no)], two persons per household (the first is the head)."""
    out, n = {}, 0
    for v, k in PERSONS.items():
        rows = []
        for i in range(k):
            n += 1
            rows.append((person(v[:6], n), name_of(n), f"{v}-H{i // 2:02d}"))
        out[v] = rows
    return out


def expense_amounts(n: int = 330) -> list[float]:
    """Deterministic amounts with Benford-like first digits (10 ** uniform), every 10th a multiple of 1,000."""
    out = []
    phi = (math.sqrt(5) - 1) / 2
    for i in range(n):
        u = (i * phi) % 1.0
        a = round(10 ** (2 + 2.5 * u), 2)
        if i % 10 == 0:
            a = float(max(1000, round(a / 1000) * 1000))
        out.append(a)
    return out


def build(folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    from pipeline.geo.reference import load_divisions
    div = load_divisions().set_index("code")
    for v in PERSONS:
        assert v in div.index, v
    _write(folder, "manifest", ["key", "value"], [["as_of_date", AS_OF], ["source", "tests/drilldown_factory"],
                                                    ["description", "drill-down pages"], ["synthetic", "1"]])
    _write(folder, "regions", ["code", "name", "level", "parent_code", "households", "population"],
           [[v, div.loc[v, "name"], "village", div.loc[v, "parent_code"], HOUSEHOLDS[v], POPULATION[v]] for v in PERSONS])
    _write(folder, "funds", ["fund_code", "name", "category", "year", "issuing_region_code", "total_amount",
                             "standard_amount", "payment_unit"],
           [["F-DB23", "2023年农村低保资金", "subsistence_allowance", 2023, PROV, "300000.00", "500.00", "person"],
            ["F-WS23", "2023年农村安全饮水工程", "drinking_water", 2023, C, "80000.00", "", "project"],
            ["F-HR23", "2023年农村危房改造补助", "housing_renovation", 2023, C, "30000.00", "10000.00", "household"],
            ["F-DB24", "2024年农村低保资金", "subsistence_allowance", 2024, PROV, "100000.00", "500.00", "person"]])
    _write(folder, "allocations", ["allocation_id", "fund_code", "from_region_code", "to_region_code", "amount",
                                   "allocated_date"],
           [["A01", "F-DB23", PROV, CITY, "200000.00", "2023-01-05"],
            ["A02", "F-DB23", CITY, C, "150000.00", "2023-01-10"],
            ["A03", "F-DB23", CITY, C2, "40000.00", "2023-01-10"],
            ["A04", "F-DB23", C, T1, "50000.00", "2023-01-15"],
            ["A05", "F-DB23", C, T2, "40000.00", "2023-01-15"],
            ["A06", "F-DB23", C, T3, "30000.00", "2023-01-15"],
            ["A07", "F-DB23", C, V4A, "10000.00", "2023-01-15"],
            ["A08", "F-DB23", T1, V1A, "20000.00", "2023-01-20"],
            ["A09", "F-DB23", T1, V1B, "20000.00", "2023-01-20"],
            ["A10", "F-WS23", C, V1A, "60000.00", "2023-03-01"],
            ["A11", "F-HR23", C, V1B, "30000.00", "2023-06-01"],
            ["A12", "F-DB24", PROV, CITY, "50000.00", "2024-01-05"],
            ["A13", "F-DB24", CITY, C, "50000.00", "2024-01-10"],
            ["A14", "F-DB24", C, T1, "50000.00", "2024-01-15"]])
    vp = village_people()
    people = [[idn, nm, v, hh, "户主" if i % 2 == 0 else "配偶", 1]
              for v, rows in vp.items() for i, (idn, nm, hh) in enumerate(rows)]
    _write(folder, "people", ["id_number", "name", "village_code", "household_no", "relation_to_head",
                              "poverty_registered"], people)
    payments, pid = [], 0

    def pay(fund, project, idn, nm, v, amount, date, period):
        nonlocal pid
        pid += 1
        payments.append([f"P{pid:05d}", fund, project, idn, nm, v, f"{amount:.2f}", date, period])

    # F-DB23: every listed person for January and February; 春风 only 18 persons, 江口 4 ...
    for v, rows in vp.items():
        for month in (1, 2):
            for idn, nm, _ in rows:
                pay("F-DB23", "", idn, nm, v, 500, f"2023-{month:02d}-15", f"2023-{month:02d}")
    # F-HR23: three household heads of 春风, 10,000 each, for project PRJ-HR1
    for idn, nm, _ in vp[V1B][0:6:2]:
        pay("F-HR23", "PRJ-HR1", idn, nm, V1B, 10000, "2023-07-10", "2023-07")
    # F-DB24: 壕塘 all 20 persons for January 2024, 春风 four persons
    for idn, nm, _ in vp[V1A]:
        pay("F-DB24", "", idn, nm, V1A, 500, "2024-01-15", "2024-01")
    for idn, nm, _ in vp[V1B][:4]:
        pay("F-DB24", "", idn, nm, V1B, 500, "2024-01-15", "2024-01")
    _write(folder, "payments", ["payment_id", "fund_code", "project_code", "id_number", "name", "village_code",
                                "amount", "paid_date", "period"], payments)
    _write(folder, "projects", ["project_code", "fund_code", "region_code", "name", "contractor_name",
                                "contractor_credit_code", "contract_amount", "planned_quantity", "completed_quantity",
                                "unit", "start_date", "end_date", "acceptance_date"],
           [["PRJ-WS1", "F-WS23", V1A, "壕塘社区安全饮水工程", "衡阳水利建设有限公司", "", "60000.00", 10, 8, "口",
             "2023-03-10", "2023-09-30", "2023-10-20"],
            ["PRJ-HR1", "F-HR23", V1B, "春风社区危房改造", "", "", "30000.00", 3, 3, "户",
             "2023-06-01", "2023-07-01", "2023-07-05"]])
    # ledger: 壕塘 has income, 330 expenses (I02 needs 300) and the two project payments
    ledger, invoices = [], []
    ledger.append(["E-WS1", V1A, "2023-05-01", "2023-05-02", "expense", "工程支出", "30000.00", "衡阳水利建设有限公司",
                   "", "WS-01", 1, "PRJ-WS1"])
    ledger.append(["E-WS2", V1A, "2023-11-05", "2023-11-06", "expense", "工程支出", "24000.00", "衡阳水利建设有限公司",
                   "", "WS-02", 1, "PRJ-WS1"])
    invoices += [["INV-WS1", "E-WS1", "043002300222", "10000001", "衡阳水利建设有限公司", "", "30000.00", "2023-05-01"],
                 ["INV-WS2a", "E-WS2", "043002300222", "10000002", "衡阳水利建设有限公司", "", "12000.00", "2023-11-05"],
                 ["INV-WS2b", "E-WS2", "043002300222", "10000003", "衡阳水利建设有限公司", "", "12000.00", "2023-11-05"]]
    for i, amt in enumerate([50000.0, 20000.0, 8000.0]):
        ledger.append([f"E-IN{i}", V1A, f"2023-{i + 1:02d}-03", f"2023-{i + 1:02d}-03", "income",
                       "上级补助收入" if i < 2 else "集体经营收入", f"{amt:.2f}", "西渡镇财政所", "", f"IN-{i}", 1, ""])
    amounts = expense_amounts()
    cadre = vp[V1A][0]
    for i, amt in enumerate(amounts):
        d = dt.date(2023, 1, 1) + dt.timedelta(days=(i * 11) % 365)
        payee = PAYEES[i % len(PAYEES)] if i % 7 else cadre[1]
        cid = cadre[0] if not i % 7 else ""
        eid = f"E{i:04d}"
        ledger.append([eid, V1A, d.isoformat(), d.isoformat(), "expense", EXPENSE_CATS[i % len(EXPENSE_CATS)],
                       f"{amt:.2f}", payee, cid, f"V{i:04d}", 1 if amt >= 5000 else 0, ""])
        if i % 3 == 0:
            invoices.append([f"INV{i:04d}", eid, "043002300333", f"{20000000 + i}", payee, "", f"{amt:.2f}", d.isoformat()])
    ledger.append(["E-V1B", V1B, "2023-04-01", "2023-04-02", "expense", "办公费", "800.00", "西渡镇文具店", "", "B-1", 0, ""])
    ledger.append(["E-V6", V6, "2023-04-01", "2023-04-02", "expense", "办公费", "900.00", "车江文具店", "", "X-1", 0, ""])
    _write(folder, "ledger", ["entry_id", "village_code", "entry_date", "booked_date", "direction", "category", "amount",
                              "counterparty_name", "counterparty_id", "voucher_no", "collective_approval", "project_code"],
           ledger)
    _write(folder, "invoices", ["invoice_id", "entry_id", "invoice_code", "invoice_no", "issuer_name",
                                "issuer_credit_code", "amount", "issue_date"], invoices)
    comp = []

    def complaint(cid, v, closed, subst, month=3):
        comp.append([cid, v, "online", "livelihood_funds", f"2023-{month:02d}-01", f"2023-{month:02d}-03",
                     f"2023-{month + 1:02d}-01" if closed else "", 0, (1 if subst else 0) if closed else "", "500.00",
                     "F-DB23", "", "反映低保发放问题", "举报人甲", "13800000000"])

    complaint("Q01", V1A, True, True)
    complaint("Q02", V1B, True, True, 4)
    complaint("Q03", V1C, False, False, 5)
    complaint("Q04", V2A, True, False)
    for k in range(6):
        complaint(f"Q1{k}", V4A, k < 3, True, 3 + k)
    complaint("Q20", V6, True, True)
    _write(folder, "complaints", ["complaint_id", "region_code", "channel", "category", "received_date", "accepted_date",
                                  "closed_date", "extension_approved", "substantiated", "amount_involved", "fund_code",
                                  "project_code", "summary", "complainant_name", "complainant_contact"], comp)
    _write(folder, "deaths", ["id_number", "date_of_death"], [])
    return {"people": vp, "expenses": amounts, "n_payments": len(payments)}
