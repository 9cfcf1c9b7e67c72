"""The leaders' overview: KPIs, monthly trends and sub-region rankings, all from roll-up tables."""
from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import bindparam, func, select

from core import schema
from core.scope import Scope
from data_access.base import (
    as_float, bounds, child_level, descending_order, memoize_in_region, read_df, read_records, read_rows, region_names,
    resolve_region, statement, under_param, year_params,
)
from data_access.cache import memoize
from data_access.complaints import complaint_funnel

T = schema.agg_region_year


@memoize
def years(scope: Scope) -> list[int]:
    if scope is None or scope.is_empty:
        return []
    # (the statements of this module are built once, their values as parameters: data_access.base.statement)
    stmt = statement(("overview.years",), lambda: select(T.c.year).where(T.c.region_code == bindparam("code"))
                     .distinct().order_by(T.c.year))
    return [int(y) for (y,) in read_rows(stmt, params={"code": scope.region_code})]


@memoize_in_region
def kpis(scope: Scope, region: str | None = None, year: int | None = None) -> dict | None:
    """Funds disclosed, allocated, paid to households, households reached, complaints funnel."""
    code = resolve_region(scope, region)
    if code is None:
        return None
    stmt = statement(("overview.kpis", bool(year)), lambda: _kpi_stmt(bool(year)))
    with_row = read_rows(stmt, params={"code": code, **year_params(year)})[0]
    keys = ("funds_disclosed", "n_funds", "allocated_in", "paid_amount", "n_payments", "households_reached", "households")
    out = {k: (float(v) if v is not None else 0.0) for k, v in zip(keys, with_row)}
    out["region"] = code
    period = (f"{int(year)}-01", f"{int(year)}-12") if year else (None, None)
    out["complaints"] = complaint_funnel(scope, code, *period)
    return out


def _kpi_stmt(by_year: bool):
    stmt = select(func.sum(T.c.funds_disclosed), func.sum(T.c.n_funds), func.sum(T.c.allocated_in),
                  func.sum(T.c.paid_amount), func.sum(T.c.n_payments), func.sum(T.c.households_reached),
                  func.max(T.c.households)).where(T.c.region_code == bindparam("code"))
    return stmt.where(T.c.year == bindparam("year")) if by_year else stmt


@memoize_in_region
def monthly(scope: Scope, region: str | None = None, year: int | None = None) -> pd.DataFrame:
    """Payments per month and category for the region."""
    code = resolve_region(scope, region)
    if code is None:
        return pd.DataFrame(columns=["period", "category", "n_payments", "amount"])
    M = schema.agg_pay_month

    def build():
        stmt = select(M.c.period, M.c.category, M.c.n_payments, M.c.amount).where(M.c.region_code == bindparam("code"))
        if year:
            stmt = stmt.where(M.c.period >= bindparam("month_from"), M.c.period <= bindparam("month_to"))
        return stmt.order_by(M.c.period)
    return read_df(statement(("overview.monthly", bool(year)), build), params={"code": code, **year_params(year)})


@memoize_in_region
def subregions(scope: Scope, region: str | None = None, year: int | None = None, level: str | None = None) -> pd.DataFrame:
    """One row per sub-region (children by default, or every region of ``level`` under it) with the
    overview's comparison metrics: paid, households, paid per household, anomaly rate, complaints."""
    code = resolve_region(scope, region)
    cols = ["region_code", "name", "paid_amount", "n_payments", "households", "households_reached",
            "paid_per_household", "anomaly_rate", "complaints", "complaints_per_10k"]
    if code is None:
        return pd.DataFrame(columns=cols)
    level = level or child_level(code)
    if level is None:
        return pd.DataFrame(columns=cols)
    # the three roll-ups joined in one statement (one read, no pandas merges)
    stmt = statement(("overview.subregions", bool(year)), lambda: _subregions_stmt(bool(year)))
    recs = read_records(stmt, params={**bounds(code), "level": level, **year_params(year)})
    if not recs:
        return pd.DataFrame(columns=cols)
    # the metrics over the rows in plain Python (a few dozen sub-regions; a frame, its records, another frame
    # and its sort were most of the call)
    names = region_names([r["region_code"] for r in recs])
    num, nan = as_float, math.nan
    for r in recs:
        r["paid_amount"] = num(r["paid_amount"])
        hh, flagged, an_n, pop = num(r["households"]), num(r["flagged_payments"]), num(r["an_n"]), num(r["population"])
        r["paid_per_household"] = r["paid_amount"] / hh if hh > 0 else nan
        r["anomaly_rate"] = flagged / an_n if an_n > 0 else nan
        c = num(r["complaints"])
        r["complaints"] = 0 if math.isnan(c) else int(c)
        r["complaints_per_10k"] = r["complaints"] / pop * 10000 if pop > 0 else nan
        r["name"] = names.get(r["region_code"], r["region_code"])
    # paid, largest first, in the order DataFrame.sort_values gave (its quicksort, ties included)
    return pd.DataFrame([recs[i] for i in descending_order([r["paid_amount"] for r in recs])], columns=cols)


def _subregions_stmt(by_year: bool):
    r = (select(T.c.region_code, func.sum(T.c.paid_amount).label("paid_amount"),
                func.sum(T.c.n_payments).label("n_payments"), func.max(T.c.households).label("households"),
                func.max(T.c.population).label("population"),
                func.sum(T.c.households_reached).label("households_reached"))
         .where(under_param(T.c.region_code), T.c.level == bindparam("level")).group_by(T.c.region_code))
    if by_year:
        r = r.where(T.c.year == bindparam("year"))
    r = r.subquery("r")
    A, C = schema.agg_anomaly, schema.agg_complaints
    an = (select(A.c.region_code, A.c.flagged_payments, A.c.n_payments.label("an_n"))
          .where(under_param(A.c.region_code), A.c.level == bindparam("level"))).subquery("a")
    cstmt = (select(C.c.region_code, func.sum(C.c.received).label("complaints"))
             .where(under_param(C.c.region_code), C.c.level == bindparam("level")).group_by(C.c.region_code))
    if by_year:
        cstmt = cstmt.where(C.c.period >= bindparam("month_from"), C.c.period <= bindparam("month_to"))
    cp = cstmt.subquery("c")
    return (select(r, an.c.flagged_payments, an.c.an_n, cp.c.complaints)
            .select_from(r.outerjoin(an, an.c.region_code == r.c.region_code)
                         .outerjoin(cp, cp.c.region_code == r.c.region_code))
            .order_by(r.c.region_code))
