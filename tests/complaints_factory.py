"""A hand-made package for the complaints page: every deadline edge of the service rule, repeat
complaints, and complaints that a clue corroborates. As-of 2024-06-30. Every figure the tests
assert is known by construction (see the comments and ``EXPECTED``).

Places: 衡阳县 (C1) with 西渡镇 (T1: villages V1, V2) and 集兵镇 (T2: village V2A); 衡南县 (C3: V3) for
the scope checks. Population: V1 1,000, V2 1,000, V2A 2,000, V3 500.

Deadline edges (no fund, no project: they are never repeats):
  A7  V1 received 01-01, accepted 01-08 (day 7: in time), closed 04-08 (last allowed day: in time)
  A8  V1 received 01-01, accepted 01-09 (day 8: 1 day late), closed 04-10 (limit 04-09: 1 day late)
  X1  V1 extension: accepted 01-02 (day 0), closed 05-02 (limit with extension 05-02: in time)
  X2  V1 extension: accepted 01-03 (day 1), closed 05-04 (limit 05-03: 1 day late)
  M1  V1 accepted 2023-11-30, closed 2024-02-29 (30 Nov + 3 months = 29 Feb 2024: in time)
  M2  V1 accepted 2023-11-30, closed 2024-03-01 (1 day late)
  L30 V1 received 02-01, accepted 03-02 (day 30: 23 days late), closed 03-20
  O1  V2 accepted 03-30, open: limit 06-30 = as-of, not yet overdue
  O2  V2 accepted 03-29, open: limit 06-29, 1 day overdue at as-of
  O3  V2 extension, accepted 02-29, open: limit 06-29, 1 day overdue
  O4  V2 extension, accepted 03-01, open: limit 07-01, not overdue
  N1  V2 received 06-23, not accepted: 7 days old at as-of, not overdue
  N2  V2 received 06-22, not accepted: 8 days old, 1 day overdue
  N3  V2 received 05-31, not accepted: 30 days old, 23 days overdue
Repeats (V2A):
  R1, R2, R3  fund F-DB, received 01-10, 04-09 (90 days later: second), 05-01 (third)
  P1, P2      project PRJ2, received 01-05, 04-05 (91 days later: a new first complaint)
  W1          fund F-WS, received 01-15 (another matter)
Corroboration: V2A has a duplicate payment of F-DB (R08) and PRJ2 was paid 95% before acceptance (R14).
衡南县: S1, S2 in V3 (F-DB; V3 has a duplicate payment too).
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from core.idnumber import make_id

AS_OF = "2024-06-30"
PROV, CITY = "430000000000", "430400000000"
C1, C3 = "430421000000", "430422000000"
T1, T2 = "430421100000", "430421101000"
V1, V2, V2A = "430421100203", "430421100204", "430421101200"
V3 = "430422002029"
POPULATION = {V1: 1000, V2: 1000, V2A: 2000, V3: 500}

HEADER = ["complaint_id", "region_code", "channel", "category", "received_date", "accepted_date", "closed_date",
          "extension_approved", "substantiated", "amount_involved", "fund_code", "project_code", "summary",
          "complainant_name", "complainant_contact"]

#           id     region channel    category               received      accepted      closed       ext subst amount    fund    project
ROWS = [
    ("A7",  V1,  "online", "livelihood_funds",    "2024-01-01", "2024-01-08", "2024-04-08", 0, 1, "1000.00", "", ""),
    ("A8",  V1,  "letter", "livelihood_funds",    "2024-01-01", "2024-01-09", "2024-04-10", 0, 0, "", "", ""),
    ("X1",  V1,  "visit",  "village_finance",     "2024-01-02", "2024-01-02", "2024-05-02", 1, 1, "2500.50", "", ""),
    ("X2",  V1,  "phone",  "village_finance",     "2024-01-02", "2024-01-03", "2024-05-04", 1, 0, "", "", ""),
    ("M1",  V1,  "wechat", "work_style",          "2023-11-25", "2023-11-30", "2024-02-29", 0, 1, "", "", ""),
    ("M2",  V1,  "online", "work_style",          "2023-11-25", "2023-11-30", "2024-03-01", 0, 0, "", "", ""),
    ("L30", V1,  "letter", "livelihood_funds",    "2024-02-01", "2024-03-02", "2024-03-20", 0, 0, "", "", ""),
    ("O1",  V2,  "letter", "other",               "2024-03-25", "2024-03-30", "",           0, "", "", "", ""),
    ("O2",  V2,  "visit",  "other",               "2024-03-25", "2024-03-29", "",           0, "", "", "", ""),
    ("O3",  V2,  "phone",  "other",               "2024-02-25", "2024-02-29", "",           1, "", "", "", ""),
    ("O4",  V2,  "online", "other",               "2024-02-27", "2024-03-01", "",           1, "", "", "", ""),
    ("N1",  V2,  "visit",  "livelihood_funds",    "2024-06-23", "",           "",           0, "", "", "", ""),
    ("N2",  V2,  "letter", "livelihood_funds",    "2024-06-22", "",           "",           0, "", "", "", ""),
    ("N3",  V2,  "letter", "livelihood_funds",    "2024-05-31", "",           "",           0, "", "", "", ""),
    ("R1",  V2A, "phone",  "poverty_alleviation", "2024-01-10", "2024-01-11", "2024-02-01", 0, 1, "500.00", "F-DB", ""),
    ("R2",  V2A, "visit",  "poverty_alleviation", "2024-04-09", "2024-04-10", "2024-05-01", 0, 1, "", "F-DB", ""),
    ("R3",  V2A, "letter", "poverty_alleviation", "2024-05-01", "2024-05-02", "",           0, "", "", "F-DB", ""),
    ("P1",  V2A, "online", "village_finance",     "2024-01-05", "2024-01-06", "2024-02-06", 0, 0, "", "F-WS", "PRJ2"),
    ("P2",  V2A, "online", "village_finance",     "2024-04-05", "2024-04-06", "",           0, "", "", "F-WS", "PRJ2"),
    ("W1",  V2A, "wechat", "other",               "2024-01-15", "2024-01-16", "2024-02-16", 0, 0, "", "F-WS", ""),
    ("S1",  V3,  "letter", "livelihood_funds",    "2024-01-20", "2024-01-22", "2024-03-01", 0, 1, "800.00", "F-DB", ""),
    ("S2",  V3,  "online", "livelihood_funds",    "2024-02-20", "2024-02-25", "",           0, "", "", "F-DB", ""),
]

# Known by construction (衡阳县 = every row but S1, S2: 20 complaints)
EXPECTED = {
    "county": {"received": 20, "accepted": 17, "closed": 11, "substantiated": 5,
               # accepted in time: all accepted but A8 and L30; closed in time: A7 X1 M1 L30 R1 R2 P1 W1
               "accepted_in_time": 15, "closed_in_time": 8, "extensions": 4, "amount_involved": 4000.50},
    # R22 at as-of: A8 (1), L30 (23), N2 (1), N3 (23); R23: A8 (1), X2 (1), M2 (1), O2 (1), O3 (1)
    "r22": {"L30": 23, "N3": 23, "A8": 1, "N2": 1},
    "r23": {"A8": 1, "X2": 1, "M2": 1, "O2": 1, "O3": 1},
    "per_10k": {T1: 14 / 2000 * 10000, T2: 6 / 2000 * 10000},
}


def person(county6: str, n: int) -> str:
    return make_id(county6, dt.date(1960 + n, 3, 1 + n), n)


def _write(folder: Path, name: str, header: list[str], rows: list[list]) -> None:
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def build(folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    from pipeline.geo.reference import load_divisions
    div = load_divisions().set_index("code")
    _write(folder, "manifest", ["key", "value"], [["as_of_date", AS_OF], ["source", "tests/complaints_factory"],
                                                    ["description", "complaint deadlines"], ["synthetic", "1"]])
    _write(folder, "regions", ["code", "name", "level", "parent_code", "households", "population"],
           [[v, div.loc[v, "name"], "village", div.loc[v, "parent_code"], p // 3, p] for v, p in POPULATION.items()])
    _write(folder, "funds", ["fund_code", "name", "category", "year", "issuing_region_code", "total_amount",
                             "standard_amount", "payment_unit"],
           [["F-DB", "2024年农村低保资金", "subsistence_allowance", 2024, PROV, "100000.00", "500.00", "person"],
            ["F-WS", "2024年安全饮水工程", "drinking_water", 2024, C1, "50000.00", "", "project"]])
    a, b, c = person("430421", 1), person("430421", 2), person("430422", 3)
    _write(folder, "people", ["id_number", "name", "village_code", "household_no", "relation_to_head", "poverty_registered"],
           [[a, "赵一", V2A, "H1", "户主", 1], [b, "钱二", V2A, "H2", "户主", 1], [c, "孙三", V3, "H3", "户主", 1]])
    # one duplicate payment (R08) in V2A and one in V3; the rest is in order
    _write(folder, "payments", ["payment_id", "fund_code", "project_code", "id_number", "name", "village_code",
                                "amount", "paid_date", "period"],
           [["PAY1", "F-DB", "", a, "赵一", V2A, "500.00", "2024-01-15", "2024-01"],
            ["PAY2", "F-DB", "", a, "赵一", V2A, "500.00", "2024-01-20", "2024-01"],
            ["PAY3", "F-DB", "", b, "钱二", V2A, "500.00", "2024-01-15", "2024-01"],
            ["PAY4", "F-DB", "", c, "孙三", V3, "500.00", "2024-01-15", "2024-01"],
            ["PAY5", "F-DB", "", c, "孙三", V3, "500.00", "2024-01-16", "2024-01"]])
    _write(folder, "allocations", ["allocation_id", "fund_code", "from_region_code", "to_region_code", "amount",
                                   "allocated_date"], [])
    # PRJ2: 95% paid while not accepted (R14); invoiced and approved, so no other ledger rule fires
    _write(folder, "projects", ["project_code", "fund_code", "region_code", "name", "contractor_name",
                                "contractor_credit_code", "contract_amount", "planned_quantity", "completed_quantity",
                                "unit", "start_date", "end_date", "acceptance_date"],
           [["PRJ2", "F-WS", V2A, "集兵镇安全饮水工程", "衡阳水利建设有限公司", "", "10000.00", 10, 10, "口",
             "2024-01-01", "2024-03-01", ""]])
    _write(folder, "ledger", ["entry_id", "village_code", "entry_date", "booked_date", "direction", "category", "amount",
                              "counterparty_name", "counterparty_id", "voucher_no", "collective_approval", "project_code"],
           [["E1", V2A, "2024-02-01", "2024-02-01", "expense", "工程支出", "9500.00", "衡阳水利建设有限公司", "", "J-1", 1,
             "PRJ2"]])
    _write(folder, "invoices", ["invoice_id", "entry_id", "invoice_code", "invoice_no", "issuer_name", "issuer_credit_code",
                                "amount", "issue_date"],
           [["INV1", "E1", "043002400111", "00000009", "衡阳水利建设有限公司", "", "9500.00", "2024-02-01"]])
    rows = [[*r, f"反映问题{r[0]}：低保评定不公", f"举报人{r[0]}", f"1380000{i:04d}"] for i, r in enumerate(ROWS)]
    _write(folder, "complaints", HEADER, rows)
    _write(folder, "deaths", ["id_number", "date_of_death"], [])
    return EXPECTED
