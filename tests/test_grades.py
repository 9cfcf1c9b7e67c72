"""Risk grades with hand-made numbers (data_access/grades.py), and the roll-up they read."""
from __future__ import annotations

import pytest

from data_access.grades import GradeRules, benford_mad, components_of, composite, grade_frame, letter


def row(**kw):
    base = {"n_payments": 0, "paid_amount": 0.0, "flagged_payments": 0, "flagged_amount": 0.0, "n_expenses": 0,
            "n_round": 0, "complaints": 0, "closed": 0, "substantiated": 0, "population": None, "lag_n": 0,
            "lag_days": 0, **{f"d{i}": 0 for i in range(1, 10)}}
    base.update(kw)
    return base


def test_letter_bounds_are_inclusive():
    b = (0.005, 0.01, 0.02, 0.05, 0.10)
    assert [letter(v, b) for v in (0.0, 0.005, 0.0051, 0.01, 0.02, 0.05, 0.1, 0.1001)] == list("AABBCDEF")
    assert letter(None, b) is None


def test_small_village_is_not_enough_data_not_a():
    # 10 payments, none flagged, 100 residents: a perfect record, but too small to grade
    comps = components_of(row(n_payments=10, paid_amount=5000.0, population=100, complaints=0))
    assert comps["anomaly_count"]["enough"] is False and comps["anomaly_count"]["letter"] is None
    assert comps["complaints_10k"]["letter"] is None
    assert composite(comps) is None


def test_hand_made_composite():
    # 200 payments, 3 flagged (1.5% -> C), 1,500 of 100,000 yuan (1.5% -> C);
    # 100 expenses, 25 round (25% -> D); 2,000 residents, 3 complaints (15 per 10k -> C)
    r = row(n_payments=200, paid_amount=100000.0, flagged_payments=3, flagged_amount=1500.0,
            n_expenses=100, n_round=25, population=2000, complaints=3, closed=2, substantiated=1)
    comps = components_of(r)
    assert comps["anomaly_count"]["value"] == pytest.approx(0.015)
    assert [comps[c]["letter"] for c in ("anomaly_count", "anomaly_amount", "round_share", "complaints_10k")] == list("CCDC")
    assert comps["benford"]["letter"] is None           # 100 expenses < 300
    assert comps["substantiation"]["letter"] is None    # 2 closed < 5
    # weighted mean: (2*2 + 2*2 + 3 + 2) / 6 = 2.17 -> 2 -> C
    assert composite(comps) == "C"


def test_worst_component_caps_the_composite():
    # I01 perfect (A, A), complaints 100 per 10k (F): mean (0+0+5)/5 = 1 -> B, but F - 2 = D
    r = row(n_payments=1000, paid_amount=1e6, population=1000, complaints=10)
    comps = components_of(r)
    assert comps["complaints_10k"]["letter"] == "F"
    assert composite(comps) == "D"


def test_needs_anomaly_rate_and_two_components():
    only_complaints = components_of(row(population=5000, complaints=1))
    assert composite(only_complaints) is None
    only_i01 = components_of(row(n_payments=100, paid_amount=1000.0))
    # I01 by count and by amount are two components
    assert composite(only_i01) == "A"
    assert composite(only_i01, GradeRules(min_components=3)) is None


def test_benford_mad():
    import math
    perfect = [round(10000 * math.log10(1 + 1 / d)) for d in range(1, 10)]
    assert benford_mad(perfect) < 0.0001
    assert benford_mad([0] * 8 + [10]) == pytest.approx((sum(math.log10(1 + 1 / d) for d in range(1, 9))
                                                         + (1 - math.log10(1 + 1 / 9))) / 9)
    assert benford_mad([0] * 9) is None


def test_grade_frame_adds_columns():
    import pandas as pd
    df = grade_frame(pd.DataFrame([row(n_payments=10), row(n_payments=100, paid_amount=100.0)]))
    assert df["grade"].tolist() == [None, "A"]
    assert df["anomaly_count_n"].tolist() == [10, 100]


def test_first_digits():
    from pipeline.rollups import first_digits
    assert first_digits([1234.5, 0.3, 999.99, 5000, 0, -3, 0.1 * 3]).tolist() == [1, 3, 9, 5, 0, 0, 3]
