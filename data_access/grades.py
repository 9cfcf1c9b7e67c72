"""Risk indicators I01-I05 per region and period, and the composite grade A-F (docs/clues.md).

The pure part (``components_of``, ``graded_columns``, ``grade_frame``) turns the additive counts of ``agg_indicators``
into indicator values, one letter per indicator and a composite letter; the memoized readers apply
the viewer's scope and read only the roll-up.

Formula (decided here, documented in docs/clues.md):
* each indicator with enough data gets a letter A-F from its thresholds (``GradeRules.thresholds``:
  the upper bound of A, B, C, D, E; above the last is F);
* the composite is the weighted mean of the letters' points (A=0 ... F=5; the two I01 rates weigh 2,
  the others 1), rounded half up, and never more than two letters better than the worst indicator;
* "not enough data" (no letter, never "A") for an indicator below its minimum sample, and for the
  composite when I01 by count lacks data or fewer than ``min_components`` indicators have enough.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import bindparam, func, select

from core import schema
from core.db import reading
from core.scope import Scope, normalize_code
from core.settings import get_settings
from data_access.base import (bounds, in_scope_param, memoize_in_region, read_rows, region_names, resolve_region,
                              scope_bounds, statement, under_param)
from data_access.cache import memoize

LETTERS = "ABCDEF"
COMPONENTS = ("anomaly_count", "anomaly_amount", "benford", "round_share", "complaints_10k", "substantiation",
              "disclosure_lag")
# which indicator of clue-rules.md each component is
INDICATOR = {"anomaly_count": "I01", "anomaly_amount": "I01", "benford": "I02", "round_share": "I03",
             "complaints_10k": "I04", "substantiation": "I04", "disclosure_lag": "I05"}
BENFORD = [math.log10(1 + 1 / d) for d in range(1, 10)]


@dataclass(frozen=True)
class GradeRules:
    min_payments: int = 30            # I01: payments examined
    min_benford: int = field(default_factory=lambda: get_settings().rules.benford_min_count)   # I02: expenses
    min_expenses: int = 30            # I03: expenses
    min_population: int = 500         # I04: residents
    min_closed: int = 5               # I04: closed complaints, for the substantiation rate
    min_lag: int = 30                 # I05: payments with a disclosure date
    min_components: int = 2
    thresholds: tuple = (
        ("anomaly_count", (0.005, 0.01, 0.02, 0.05, 0.10)),
        ("anomaly_amount", (0.005, 0.01, 0.02, 0.05, 0.10)),
        ("benford", (0.006, 0.012, 0.015, 0.022, 0.030)),     # Nigrini: > 0.015 nonconformity
        ("round_share", (0.05, 0.10, 0.20, 0.30, 0.50)),
        ("complaints_10k", (5.0, 10.0, 20.0, 40.0, 80.0)),
        ("substantiation", (0.10, 0.20, 0.35, 0.50, 0.70)),
        ("disclosure_lag", (7.0, 15.0, 30.0, 60.0, 90.0)),      # days
    )
    weights: tuple = (("anomaly_count", 2), ("anomaly_amount", 2), ("benford", 1), ("round_share", 1),
                      ("complaints_10k", 1), ("substantiation", 1), ("disclosure_lag", 1))
    max_gap: int = 2                  # the composite is at most this many letters better than the worst

    # (the pairs as dicts, made once per instance: a province's map grades 134 counties, ~2,500 lookups)
    @functools.cached_property
    def _threshold_of(self) -> dict:
        return dict(self.thresholds)

    @functools.cached_property
    def _weight_of(self) -> dict:
        return dict(self.weights)

    def threshold(self, comp: str) -> tuple:
        return self._threshold_of[comp]

    def weight(self, comp: str) -> int:
        return self._weight_of[comp]


def letter(value: float | None, bounds) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    for i, b in enumerate(bounds):
        if value <= b + 1e-12:
            return LETTERS[i]
    return LETTERS[len(bounds)]


def benford_mad(counts) -> float | None:
    n = float(sum(counts))
    if n <= 0:
        return None
    return sum(abs(c / n - p) for c, p in zip(counts, BENFORD)) / 9.0


def _num(row: dict, key: str) -> float:
    v = row.get(key)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(v) else v


def components_of(row: dict, rules: GradeRules | None = None) -> dict:
    """{component: {value, sample, enough, letter}} from one region's additive counts."""
    rules = rules or GradeRules()
    n_pay, n_exp, pop = _num(row, "n_payments"), _num(row, "n_expenses"), _num(row, "population")
    closed, lag_n = _num(row, "closed"), _num(row, "lag_n")
    paid = _num(row, "paid_amount")
    digits = [_num(row, f"d{i}") for i in range(1, 10)]
    n_digits = sum(digits)
    raw = {
        "anomaly_count": (_num(row, "flagged_payments") / n_pay if n_pay else None, n_pay, rules.min_payments),
        "anomaly_amount": (_num(row, "flagged_amount") / paid if paid > 0 else None, n_pay, rules.min_payments),
        "benford": (benford_mad(digits), n_digits, rules.min_benford),
        "round_share": (_num(row, "n_round") / n_exp if n_exp else None, n_exp, rules.min_expenses),
        "complaints_10k": (_num(row, "complaints") / pop * 10000 if pop > 0 else None, pop, rules.min_population),
        "substantiation": (_num(row, "substantiated") / closed if closed else None, closed, rules.min_closed),
        "disclosure_lag": (_num(row, "lag_days") / lag_n if lag_n else None, lag_n, rules.min_lag),
    }
    out = {}
    for comp, (value, sample, minimum) in raw.items():
        enough = value is not None and sample >= minimum
        out[comp] = {"value": value, "sample": sample, "minimum": minimum, "enough": enough,
                     "letter": letter(value, rules.threshold(comp)) if enough else None}
    return out


def composite(comps: dict, rules: GradeRules | None = None) -> str | None:
    """The composite letter, or None for "not enough data"."""
    rules = rules or GradeRules()
    graded = {c: v["letter"] for c, v in comps.items() if v.get("letter")}
    if "anomaly_count" not in graded or len(graded) < rules.min_components:
        return None
    pts = {c: LETTERS.index(g) for c, g in graded.items()}
    w = sum(rules.weight(c) for c in pts)
    mean = sum(rules.weight(c) * p for c, p in pts.items()) / w
    score = int(math.floor(mean + 0.5))
    score = max(score, max(pts.values()) - rules.max_gap)
    return LETTERS[min(score, len(LETTERS) - 1)]


def graded_columns(records, rules: GradeRules | None = None) -> dict[str, list]:
    """Per component ``<comp>`` (value), ``<comp>_n`` (sample), ``<comp>_grade`` (letter or None), and
    ``grade`` (composite or None), as lists over ``records`` (agg_indicators rows as dicts)."""
    rules = rules or GradeRules()
    cols: dict[str, list] = {}
    grades = []
    for row in records:
        comps = components_of(row, rules)
        for c, v in comps.items():
            cols.setdefault(c, []).append(v["value"])
            cols.setdefault(f"{c}_n", []).append(v["sample"])
            cols.setdefault(f"{c}_grade", []).append(v["letter"])
        grades.append(composite(comps, rules))
    cols["grade"] = grades
    return cols


def grade_frame(df: pd.DataFrame, rules: GradeRules | None = None) -> pd.DataFrame:
    """Adds the ``graded_columns`` to a frame of agg_indicators rows (a new frame)."""
    cols = graded_columns(df.to_dict("records"), rules)
    # the new columns joined in one step (one assignment per column cost ~0.1 ms each, ~20 of them)
    return pd.concat([df.drop(columns=[c for c in cols if c in df.columns]),
                      pd.DataFrame(cols, index=df.index)], axis=1)


# --- reads ---------------------------------------------------------------------------------------------
_SUMS = ("n_payments", "paid_amount", "flagged_payments", "flagged_amount", "n_expenses", "n_round",
         *[f"d{i}" for i in range(1, 10)], "complaints", "closed", "substantiated", "lag_n", "lag_days")


def _stmt(by_year: bool, by_level: bool):
    """The indicators' statement, built once per shape (data_access.base.statement: its 22 labelled sums cost
    ~0.5 ms to build); the scope, the region, the level and the year are parameters."""
    A = schema.agg_indicators
    stmt = (select(A.c.region_code, *[func.sum(getattr(A.c, c)).label(c) for c in _SUMS],
                   func.max(A.c.population).label("population"))
            .where(in_scope_param(A.c.region_code)).group_by(A.c.region_code))
    if by_year:
        stmt = stmt.where(A.c.year == bindparam("year"))
    if by_level:
        return stmt.where(under_param(A.c.region_code), A.c.level == bindparam("level"))
    return stmt.where(A.c.region_code == bindparam("code"))


def _year(year) -> int | None:
    try:
        return int(year) if year not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        return None


@memoize
def years(scope: Scope) -> list[int]:
    if scope is None or scope.is_empty:
        return []
    A = schema.agg_indicators
    stmt = statement(("grades.years",), lambda: select(A.c.year).where(A.c.region_code == bindparam("code"))
                     .distinct().order_by(A.c.year))
    return [int(y) for (y,) in read_rows(stmt, params={"code": scope.region_code})]


@memoize_in_region
def region_indicators(scope: Scope, region: str | None = None, level: str | None = None,
                      year: int | None = None) -> pd.DataFrame:
    """Regions of ``level`` under ``region`` (clamped to the scope; the region itself when ``level`` is
    None), inside the scope, with their indicators, letters and composite grade, and names."""
    code = resolve_region(scope, region)
    if code is None:
        return pd.DataFrame(columns=["region_code", "name", "grade"])
    y = _year(year)
    stmt = statement(("grades.region_indicators", bool(y), bool(level)), lambda: _stmt(bool(y), bool(level)))
    params = {**scope_bounds(scope), **({"year": y} if y else {})}
    params.update({**bounds(code), "level": level} if level else {"code": code})
    with reading() as conn:
        res = conn.execute(stmt, params)
        keys, rows = list(res.keys()), sorted(res.fetchall(), key=lambda r: r[0])     # by region_code
    if not rows:
        return pd.DataFrame(columns=["region_code", "name", "grade"])
    # one frame, built once over the sorted rows with the names and the grades (graded from the rows
    # themselves; components_of reads None as it reads NaN): a frame, an inserted column, a drop and a concat
    # cost ~3 ms for the one row of a county's map
    codes = [r[0] for r in rows]
    names = region_names(codes)
    graded = graded_columns(dict(zip(keys, r)) for r in rows)
    at = [j for j, k in enumerate(keys) if j > 0 and k not in graded]         # (a graded column replaces a read one)
    columns = [keys[0], "name", *(keys[j] for j in at), *graded]
    data = [(r[0], names.get(r[0], r[0]), *(r[j] for j in at), *(g[i] for g in graded.values()))
            for i, r in enumerate(rows)]
    return pd.DataFrame(data, columns=columns)


@memoize_in_region
def region_grade(scope: Scope, region: str | None, year: int | None = None) -> dict | None:
    """One region's composite grade and its components (for the breakdown panel), or None."""
    code = resolve_region(scope, region)
    if code is None:
        return None
    df = region_indicators(scope, code, None, year)
    if df.empty:
        return {"region_code": code, "name": region_names([code]).get(code, code), "grade": None,
                "components": {}}
    row = df.iloc[0].to_dict()
    comps = components_of(row)
    return {"region_code": code, "name": row["name"], "grade": composite(comps), "components": comps}


def component_link(component: str, region_code: str) -> str | None:
    """Where the records behind a component are listed (docs/clues.md)."""
    code = normalize_code(region_code)
    if component in ("anomaly_count", "anomaly_amount"):
        return f"/clues?region={code}&table=payments"
    if component in ("benford", "round_share"):
        return f"/clues?region={code}&table=ledger"
    if component in ("complaints_10k", "substantiation"):
        return f"/clues?region={code}&table=complaints"
    return None
