"""Fund flows (资金流向): where the money of a fund item (or a category of them, over a year or a range of
years) went, from a region down the levels to the households, and what is left at every level.

Reads the roll-up ``agg_fund_flow`` (pipeline/rollups.py: per fund and region the inflow, passed on,
paid, project expenses and "what left", computed by the same code as rules R11/R12), the small
``funds`` table, and the allocations *into* the chosen region's subtree (an index range on
``ix_alloc_to``) for the links. Never the payments.

Definitions (docs/fund-flows.md):
- a region *holds* a fund when it received an allocation of it (inflow > 0) or issued it; only holders
  are nodes of the flow (money spent inside a region by a level above is that level's to account for);
- "in" = inflow, plus the fund's ``total_amount`` for its issuing region;
- "what left" = passed on + paid + project expenses (clue-rules.md, R11/R12); "left" = in - what left;
- left is "retained" once the fund's budget year is over at as-of, "not yet disbursed" before;
  ``r12`` marks a city/county/township where R12 fires (year over + 180 days, gap > 2% of inflow).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from core import schema
from core.scope import Scope, level_of
from core.settings import get_settings
from data_access.base import read_df, region_names, resolve_region, under
from data_access.cache import memoize

FF, F, AL, FR = schema.agg_fund_flow, schema.funds, schema.allocations, schema.agg_fund_region
NODE_COLS = ["region_code", "name", "level", "in_amount", "from_outside", "passed_on", "paid", "ledger", "left",
             "retained", "pending", "r12"]
GAP_COLS = ["region_code", "name", "level", "in_amount", "passed_on", "paid", "ledger", "left", "retained",
            "pending", "status", "r12"]
EPS = 0.005         # half a fen: amounts are to the fen


def _int(v) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


@memoize
def as_of(scope: Scope) -> dt.date | None:
    if scope is None or scope.is_empty:
        return None
    df = read_df(select(schema.packages.c.as_of_date).order_by(schema.packages.c.id.desc()).limit(1))
    if df.empty:
        return None
    v = df.iloc[0, 0]
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


@memoize
def fund_options(scope: Scope) -> pd.DataFrame:
    """The fund items that reached the viewer's jurisdiction (a row of agg_fund_region for the scope's
    own region): fund_code, name, category, year."""
    cols = ["fund_code", "name", "category", "year"]
    if scope is None or scope.is_empty:
        return pd.DataFrame(columns=cols)
    stmt = (select(F.c.fund_code, F.c.name, F.c.category, F.c.year)
            .join(FR, FR.c.fund_code == F.c.fund_code)
            .where(FR.c.region_code == scope.region_code).order_by(F.c.year.desc(), F.c.fund_code))
    return read_df(stmt).drop_duplicates("fund_code").reset_index(drop=True)


def selected_funds(scope: Scope, fund: str | None = None, category: str | None = None,
                   year_from=None, year_to=None) -> pd.DataFrame:
    """The visible funds matching the choice (a fund item wins over a category; years inclusive)."""
    df = fund_options(scope)
    if fund:
        return df[df["fund_code"] == fund].reset_index(drop=True)
    if category:
        df = df[df["category"] == category]
    a, b = _int(year_from), _int(year_to)
    if a is not None and b is not None and a > b:
        a, b = b, a
    if a is not None:
        df = df[df["year"].astype(int) >= a]
    if b is not None:
        df = df[df["year"].astype(int) <= b]
    return df.reset_index(drop=True)


def _fund_meta(codes: list[str]) -> pd.DataFrame:
    return read_df(select(F.c.fund_code, F.c.year, F.c.issuing_region_code, F.c.total_amount)
                   .where(F.c.fund_code.in_(codes)))


@memoize
def flow(scope: Scope, region: str | None = None, fund: str | None = None, category: str | None = None,
         year_from=None, year_to=None) -> dict | None:
    """The flow under ``region`` (clamped to the scope) for the chosen funds.

    Returns {root, funds: [codes], nodes: DataFrame(NODE_COLS), edges: DataFrame(from_code, to_code, amount),
    paid_inside_all: payments inside the root at every depth (agg_fund_region), as_of}; None for an
    empty scope. ``from_code`` is None for allocations from outside the root's subtree."""
    root = resolve_region(scope, region)
    if root is None:
        return None
    funds = selected_funds(scope, fund, category, year_from, year_to)
    codes = funds["fund_code"].tolist()
    out = {"root": root, "funds": codes, "as_of": as_of(scope), "paid_inside_all": 0.0,
           "nodes": pd.DataFrame(columns=NODE_COLS), "edges": pd.DataFrame(columns=["from_code", "to_code", "amount"])}
    if not codes:
        return out
    meta = _fund_meta(codes)
    rows = read_df(select(FF.c.fund_code, FF.c.region_code, FF.c.level, FF.c.inflow, FF.c.passed_on, FF.c.paid,
                          FF.c.ledger, FF.c.left_region)
                   .where(FF.c.fund_code.in_(codes), under(FF.c.region_code, root)))
    pi = read_df(select(func.sum(FR.c.paid_inside)).where(FR.c.fund_code.in_(codes), FR.c.region_code == root))
    out["paid_inside_all"] = float(pi.iloc[0, 0] or 0.0)
    day = out["as_of"]
    stmt = (select(AL.c.from_region_code.label("from_code"), AL.c.to_region_code.label("to_code"),
                   func.sum(AL.c.amount).label("amount"))
            .where(AL.c.fund_code.in_(codes), under(AL.c.to_region_code, root))
            .group_by(AL.c.from_region_code, AL.c.to_region_code))
    if day is not None:
        stmt = stmt.where(AL.c.allocated_date <= day)
    edges = read_df(stmt)
    if rows.empty:
        return out
    m = meta.set_index("fund_code")
    for c in ("inflow", "passed_on", "paid", "ledger", "left_region"):
        rows[c] = rows[c].astype(float)
    rows["issuer"] = rows["fund_code"].map(m["issuing_region_code"]).eq(rows["region_code"])
    rows = rows[(rows["inflow"] > EPS) | rows["issuer"]].copy()
    if rows.empty:
        return out
    rows["budget"] = np.where(rows["issuer"], rows["fund_code"].map(m["total_amount"]).astype(float), 0.0)
    rows["in_amount"] = rows["inflow"] + rows["budget"]
    rows["left"] = rows["in_amount"] - rows["left_region"]
    year = rows["fund_code"].map(m["year"]).astype(int)
    over = np.array([day is not None and day >= dt.date(int(y) + 1, 1, 1) for y in year], dtype=bool)
    rows["retained"] = np.where(over, rows["left"], 0.0)
    rows["pending"] = np.where(over, 0.0, rows["left"])
    rs = get_settings().rules
    due = np.array([day is not None and day >= dt.date(int(y) + 1, 1, 1) + dt.timedelta(days=rs.retained_days_after_year)
                    for y in year], dtype=bool)
    gap = rows["inflow"] - rows["left_region"]
    rows["r12"] = (rows["level"].isin(["city", "county", "township"]) & (rows["inflow"] > 0) & due
                   & (gap - rs.retained_share * rows["inflow"] > 1e-6))
    # inflow from outside the root's subtree (the root's own inflow, and direct allocations past it)
    if not edges.empty:
        edges["amount"] = edges["amount"].astype(float)
        inside = edges["from_code"].map(lambda c: _under(c, root))
        outside = edges[~inside].groupby("to_code")["amount"].sum()
        edges.loc[~inside, "from_code"] = None
    else:
        outside = pd.Series(dtype=float)
    g = rows.groupby("region_code", as_index=False).agg(
        level=("level", "first"), in_amount=("in_amount", "sum"), budget=("budget", "sum"), passed_on=("passed_on", "sum"),
        paid=("paid", "sum"), ledger=("ledger", "sum"), left=("left", "sum"), retained=("retained", "sum"),
        pending=("pending", "sum"), r12=("r12", "any"))
    g["from_outside"] = g["region_code"].map(outside).fillna(0.0) + g["budget"]
    names = region_names(g["region_code"])
    g["name"] = g["region_code"].map(names).fillna(g["region_code"])
    holders = set(g["region_code"])
    edges = edges[edges["to_code"].isin(holders)]
    edges = edges.groupby(["from_code", "to_code"], dropna=False, as_index=False)["amount"].sum()
    out["nodes"] = g[NODE_COLS].sort_values("in_amount", ascending=False).reset_index(drop=True)
    out["edges"] = edges.reset_index(drop=True)
    return out


def _under(code, root: str) -> bool:
    try:
        return bool(code) and level_of(code) is not None and str(code).startswith(_prefix(root))
    except ValueError:
        return False


def _prefix(root: str) -> str:
    from core.scope import prefix_of
    return prefix_of(root)


@memoize
def gaps(scope: Scope, region: str | None = None, fund: str | None = None, category: str | None = None,
         year_from=None, year_to=None) -> pd.DataFrame:
    """Every node of the flow with money left (or overspent), largest first: the table beside the chart
    and its export. ``status`` is "retained", "pending", "mixed" or "overspent"."""
    f = flow(scope, region, fund, category, year_from, year_to)
    if f is None or f["nodes"].empty:
        return pd.DataFrame(columns=GAP_COLS)
    d = f["nodes"]
    d = d[d["left"].abs() > EPS].copy()
    ret, pen = d["retained"].abs() > EPS, d["pending"].abs() > EPS
    d["status"] = np.select([d["left"] < -EPS, ret & pen, ret], ["overspent", "mixed", "retained"], "pending")
    for c in ("in_amount", "passed_on", "paid", "ledger", "left", "retained", "pending"):
        d[c] = d[c].astype(float).round(2)
    d["r12"] = d["r12"].astype(bool)
    return d[GAP_COLS].sort_values(["left", "region_code"], ascending=[False, True]).reset_index(drop=True)
