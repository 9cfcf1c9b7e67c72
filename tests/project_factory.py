"""The drill-down package plus two complaints that name project PRJ-WS1 (the drill-down package has
none), for the project page's linked complaints: Q30 in 壕塘 (衡阳县), substantiated, and Q31."""
from __future__ import annotations

import csv
from pathlib import Path

from tests import drilldown_factory as F

SUMMARY = "反映安全饮水工程未完工即付款"


def build(folder: Path) -> dict:
    out = F.build(folder)
    with open(folder / "complaints.csv", "a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Q30", F.V1A, "phone", "village_finance", "2023-11-10", "2023-11-12", "2023-12-20", 0, 1,
                    "6000.00", "F-WS23", "PRJ-WS1", SUMMARY, "举报人乙", "13900000000"])
        w.writerow(["Q31", F.V1A, "online", "village_finance", "2024-02-01", "2024-02-02", "", 0, "",
                    "", "F-WS23", "PRJ-WS1", SUMMARY + "（再次）", "举报人丙", "13900000001"])
    return out
