"""The drill-down package (tests/drilldown_factory.py) plus two registers that make payment clues whose
figures the clue and map tests know by construction:

deaths    李建国 430421195102020018 (壕塘 V1A) died 2022-12-01: R01 on his three payments (P00001, P00021,
          P00310, 500 each); 张建国 430421195203030020 (V1A) died 2023-12-20: R01 on P00311 only (2024-01).
officials 李建国 serving since 2020: R03 on the same three payments (低保 is means-tested).
So 李建国 is one person hit by two rules (6 clues, 3 records, 1,500 at risk, priority 2,250), and
壕塘 has 4 flagged payments (2,000 yuan) of its payments.
"""
from __future__ import annotations

import csv
from pathlib import Path

from tests import drilldown_factory

LI, ZHANG = "430421195102020018", "430421195203030020"
V1A = drilldown_factory.V1A
EXPECTED = {"li_payments": ["P00001", "P00021", "P00310"], "zhang_payments": ["P00311"],
            "v1a_flagged": 4, "v1a_flagged_amount": 2000.0, "li_amount": 1500.0, "li_priority": 2250.0}


def build(folder: Path) -> dict:
    out = drilldown_factory.build(folder)
    with open(folder / "deaths.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id_number", "date_of_death"])
        w.writerow([LI, "2022-12-01"])
        w.writerow([ZHANG, "2023-12-20"])
    with open(folder / "officials.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id_number", "name", "employer", "position", "region_code", "start_date", "end_date"])
        w.writerow([LI, "李建国", "衡阳县财政局", "科员", "430421000000", "2020-01-01", ""])
    return out
