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
import math

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, select, union

from core import schema
from core.db import reading
from core.scope import Scope, level_of
from core.settings import get_settings
from data_access.base import (bounds, descending_order, is_missing, read_df, read_rows, region_names, resolve_region,
                              statement, under, under_param)
from data_access.cache import memoize, memoize_in_request
from pipeline.rollups import flow_node_rows

FF, F, AL, FR = schema.agg_fund_flow, schema.funds, schema.allocations, schema.agg_fund_region
FG, EG = schema.agg_fund_flow_group, schema.agg_flow_edge_group
NODE_COLS = ["region_code", "name", "level", "in_amount", "from_outside", "passed_on", "paid", "ledger", "left",
             "retained", "pending", "r12"]
GAP_COLS = ["region_code", "name", "level", "in_amount", "passed_on", "paid", "ledger", "left", "retained",
            "pending", "status", "r12"]
EPS = schema.HALF_FEN


def _int(v) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def as_of(scope: Scope) -> dt.date | None:
    """The package's as-of date, as a date (None for an empty scope or no data): meta.package_info's."""
    from data_access.meta import package_info
    info = package_info(scope)
    return dt.date.fromisoformat(info["as_of_date"]) if info else None


@memoize
def fund_options(scope: Scope) -> pd.DataFrame:
    """The fund items of the viewer's jurisdiction: those paid or allocated to its own region (a row of
    agg_fund_region), those issued inside it (a county's own project fund never passes through the city)
    and those allocated to any region inside it (a county may allocate straight to a village, past the
    township): fund_code, name, category, year. For the province, every fund."""
    cols = ["fund_code", "name", "category", "year"]
    if scope is None or scope.is_empty:
        return pd.DataFrame(columns=cols)
    level = level_of(scope.region_code)
    if level == "province":
        return read_df(statement(("flows.fund_options", "all"), lambda: _fund_options_stmt(
            select(F.c.fund_code, F.c.name, F.c.category, F.c.year).subquery())))[cols]
    if level in schema.FUND_REACH_LEVELS and _reach_built():
        # the three ways below, per region, from the roll-up (a city's allocations inside it: ~15k rows read
        # for each new viewer, 4 ms on PostgreSQL); built once, the region a parameter
        R = schema.agg_fund_reach
        stmt = statement(("flows.fund_options", "reach"), lambda: _fund_options_stmt(
            select(F.c.fund_code, F.c.name, F.c.category, F.c.year)
            .where(F.c.fund_code.in_(select(R.c.fund_code).where(R.c.region_code == bindparam("code")))).subquery()))
        return read_df(stmt, params={"code": scope.region_code})[cols]
    else:
        # the three ways a fund reaches the jurisdiction, as one statement (UNION drops the repeats: the
        # same fund row comes from each way that reaches it)
        reached = F.c.fund_code.in_(select(FR.c.fund_code).where(FR.c.region_code == scope.region_code))
        issued = under(F.c.issuing_region_code, scope.region_code)
        into = F.c.fund_code.in_(select(AL.c.fund_code).where(under(AL.c.to_region_code, scope.region_code)))
        q = union(*(select(F.c.fund_code, F.c.name, F.c.category, F.c.year).where(w)
                    for w in (reached, issued, into))).subquery()
    return read_df(_fund_options_stmt(q))[cols]


def _fund_options_stmt(q):
    return select(q.c.fund_code, q.c.name, q.c.category, q.c.year).order_by(q.c.year.desc(), q.c.fund_code)


@memoize
def _reach_built() -> bool:
    """agg_fund_reach is filled (a database rolled up before it existed has it empty until its next import
    or `manage.py rollups`: fund_options then asks the raw way). Once per data version."""
    R = schema.agg_fund_reach
    with reading() as conn:
        return (conn.execute(select(R.c.fund_code).limit(1)).first() is not None
                or conn.execute(select(F.c.fund_code).limit(1)).first() is None)


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


@memoize_in_request      # (its parts are memoized on disk: fund_options, _flow_under)
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
    out = {"root": root, "funds": codes, "as_of": as_of(scope), "paid_inside_all": 0.0}
    if not codes:
        return _no_nodes(out)
    # what flows under the root depends on the root and the choice, not on who asks: memoized on the scope
    # narrowed to the root, so a county's official and a leader opening that county share it (the fund
    # list above stays the viewer's own: it decides whether there is anything to show)
    out.update(_flow_under(scope.narrowed(root), tuple(codes) if fund else None, category, year_from, year_to))
    return out


@memoize
def _flow_under(scope: Scope, codes: tuple | None, category, year_from, year_to) -> dict:
    """The nodes and edges under ``scope.region_code`` (a scope narrowed to the flow's root): of the fund
    items ``codes``, or (``codes`` None) all funds / a category / years from the grouped roll-ups."""
    root = scope.region_code
    out = {"paid_inside_all": 0.0}
    if root is None:
        return _no_nodes(out)
    day = as_of(scope)
    if codes:
        rows, (e_from, e_to, e_amt), pi = _per_fund(list(codes), root, day)
    else:
        rows, (e_from, e_to, e_amt), pi = _grouped(root, category, year_from, year_to)
    out["paid_inside_all"] = pi
    if len(rows["region_code"]) == 0:
        return _no_nodes(out)
    # inflow from outside the root's subtree (the root's own inflow, and direct allocations past it), in
    # plain Python over the edges (pandas' string ops, groupby and masks cost ~5 ms a county)
    pref = _prefix(root)
    outside: dict[str, list[float]] = {}
    for i, (fc, tc, a) in enumerate(zip(e_from, e_to, e_amt)):
        if not (isinstance(fc, str) and fc.startswith(pref)):
            outside.setdefault(tc, []).append(a)
            e_from[i] = None
    g = _per_region(rows)
    codes = g["region_code"]
    g["from_outside"] = [math.fsum(outside.get(c, ())) + b for c, b in zip(codes, g["budget"])]
    names = region_names(codes)
    g["name"] = [names.get(c, c) for c in codes]
    holders = set(codes)
    summed: dict[tuple, list[float]] = {}
    for fc, tc, a in zip(e_from, e_to, e_amt):
        if tc in holders:
            summed.setdefault((fc, tc), []).append(a)
    # in the order pandas' grouping gave (by from, the outside last, then by to)
    keys = sorted(summed, key=lambda k: (k[0] is None, k[0] or "", k[1]))
    # largest inflow first, in exactly the order DataFrame.sort_values gave (its quicksort, ties included)
    order = descending_order(g["in_amount"])
    out["nodes"] = pd.DataFrame({c: np.array([g[c][i] for i in order], dtype=_NODE_TYPES.get(c, object))
                                 for c in NODE_COLS}, columns=NODE_COLS)
    out["edges"] = pd.DataFrame({"from_code": [k[0] for k in keys], "to_code": [k[1] for k in keys],
                                 "amount": [math.fsum(summed[k]) for k in keys]},
                                columns=["from_code", "to_code", "amount"])
    return out


def _no_nodes(out: dict) -> dict:
    """A flow without nodes (its empty frames made only then: ~0.4 ms each)."""
    out["nodes"] = pd.DataFrame(columns=NODE_COLS)
    out["edges"] = pd.DataFrame(columns=["from_code", "to_code", "amount"])
    return out


SUMMED = ["in_amount", "budget", "passed_on", "paid", "ledger", "left", "retained", "pending"]
_NODE_TYPES = {**dict.fromkeys(["from_outside", *SUMMED], float), "r12": bool}


def _per_region(rows: pd.DataFrame | dict[str, list]) -> dict[str, list]:
    """One row per region, by code, as columns of lists: the amounts (floats) summed over funds and years,
    the level, r12 if any row has it. (One grouped sum: pandas' named aggregation of ten columns cost
    ~10 ms a call at province scale; a region per row, the common case, needs no frame at all.) ``rows``: a
    frame, or its columns as lists (amounts as floats, r12 as bools)."""
    names = ("region_code", "level", *SUMMED, "r12")
    lists = isinstance(rows, dict)
    if (len(set(rows["region_code"])) == len(rows["region_code"])) if lists else rows["region_code"].is_unique:
        cols = {c: (rows[c] if lists else rows[c].tolist()) for c in names}
        order = sorted(range(len(cols["region_code"])), key=cols["region_code"].__getitem__)
        out = {c: [v[i] for i in order] for c, v in cols.items()}
    else:
        gb = (pd.DataFrame(rows) if lists else rows).groupby("region_code", sort=True)
        g = gb[SUMMED].sum()
        g.insert(0, "level", gb["level"].first())
        g["r12"] = gb["r12"].any()
        g = g.reset_index()
        out = {c: g[c].tolist() for c in names}
    for c in SUMMED:
        out[c] = [float(x) for x in out[c]]
    out["r12"] = [False if is_missing(x) else bool(x) for x in out["r12"]]
    return out


def _per_fund(codes: list[str], root: str, day) -> tuple[pd.DataFrame, tuple, float]:
    """One fund item: its agg_fund_flow rows under the root, derived per fund (pipeline.rollups.flow_node_rows)."""
    meta = _fund_meta(codes)
    rows = read_df(select(FF.c.fund_code, FF.c.region_code, FF.c.level, FF.c.inflow, FF.c.passed_on, FF.c.paid,
                          FF.c.ledger, FF.c.left_region)
                   .where(FF.c.fund_code.in_(codes), under(FF.c.region_code, root)))
    rows = flow_node_rows(rows, meta, day, get_settings().rules)
    stmt = (select(AL.c.from_region_code.label("from_code"), AL.c.to_region_code.label("to_code"),
                   func.sum(AL.c.amount).label("amount"))
            .where(AL.c.fund_code.in_(codes), under(AL.c.to_region_code, root))
            .group_by(AL.c.from_region_code, AL.c.to_region_code))
    if day is not None:
        stmt = stmt.where(AL.c.allocated_date <= day)
    edges = read_df(stmt)
    return rows, _edge_lists(edges), _paid_inside(codes, root)


def _edge_lists(edges: pd.DataFrame) -> tuple[list, list, list[float]]:
    return (edges["from_code"].tolist(), edges["to_code"].tolist(),
            edges["amount"].astype(float).tolist() if len(edges) else [])


def _grouped(root: str, category, year_from, year_to) -> tuple[dict[str, list], tuple, float]:
    """All funds, a category, a range of years: the same rows already summed per (category, year, region)
    by the roll-up (agg_fund_flow_group, agg_flow_edge_group), one row per region and year, as columns of
    lists (a county's ~200 rows: two frames and their conversions cost ~2 ms)."""
    cat = category if category else "*"
    a, b = _int(year_from), _int(year_to)
    if a is not None and b is not None and a > b:
        a, b = b, a
    # the three statements built once per shape (data_access.base.statement), the values as parameters
    got = read_rows(statement(("flows._grouped", "nodes", a is not None, b is not None),
                              lambda: _grouped_nodes_stmt(a is not None, b is not None)),
                    params=_grouped_params(root, cat, a, b))
    names = ("region_code", "level", *SUMMED, "r12")
    cols = dict(zip(names, map(list, zip(*got)))) if got else {c: [] for c in names}
    for c in SUMMED:                                       # (as astype(float): a missing amount is NaN)
        cols[c] = [math.nan if v is None else float(v) for v in cols[c]]
    cols["r12"] = [False if v is None else bool(v) for v in cols["r12"]]
    edge_rows = read_rows(statement(("flows._grouped", "edges", a is not None, b is not None),
                                    lambda: _grouped_edges_stmt(a is not None, b is not None)),
                          params=_grouped_params(root, cat, a, b))
    edges = ([r[0] for r in edge_rows], [r[1] for r in edge_rows],
             [math.nan if r[2] is None else float(r[2]) for r in edge_rows])
    # (a from_code of "" is an allocation from outside the root, as None: flow() treats both the same)
    # payments inside the root of those funds (a fund paid there has a row at every level above, so it is
    # one of the viewer's funds: no list of fund codes needed)
    pi = read_rows(statement(("flows._grouped", "paid_inside", bool(category), a is not None, b is not None),
                             lambda: _paid_inside_stmt(bool(category), a is not None, b is not None)),
                   params={**_grouped_params(root, category, a, b), "code": root})
    return cols, edges, float(pi[0][0] or 0.0)


def _grouped_params(root: str, category, a: int | None, b: int | None) -> dict:
    return {**bounds(root), "category": category, **({"year_from": a} if a is not None else {}),
            **({"year_to": b} if b is not None else {})}


def _years(col, a: bool, b: bool) -> list:
    return ([col >= bindparam("year_from")] if a else []) + ([col <= bindparam("year_to")] if b else [])


def _grouped_nodes_stmt(a: bool, b: bool):
    return (select(FG.c.region_code, FG.c.level, FG.c.in_amount, FG.c.budget, FG.c.passed_on, FG.c.paid,
                   FG.c.ledger, FG.c.left_amount.label("left"), FG.c.retained, FG.c.pending, FG.c.r12)
            .where(FG.c.category == bindparam("category"), under_param(FG.c.region_code), *_years(FG.c.year, a, b)))


def _grouped_edges_stmt(a: bool, b: bool):
    return (select(EG.c.from_code, EG.c.to_code, func.sum(EG.c.amount).label("amount"))
            .where(EG.c.category == bindparam("category"), under_param(EG.c.to_code), *_years(EG.c.year, a, b))
            .group_by(EG.c.from_code, EG.c.to_code))


def _paid_inside_stmt(by_category: bool, a: bool, b: bool):
    conds = [FR.c.region_code == bindparam("code")] + ([F.c.category == bindparam("category")] if by_category else [])
    return (select(func.sum(FR.c.paid_inside)).select_from(FR.join(F, F.c.fund_code == FR.c.fund_code))
            .where(*conds, *_years(F.c.year, a, b)))


def _paid_inside(codes: list[str], root: str) -> float:
    pi = read_df(select(func.sum(FR.c.paid_inside)).where(FR.c.fund_code.in_(codes), FR.c.region_code == root))
    return float(pi.iloc[0, 0] or 0.0)


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
    # over plain lists (pandas' masks, np.select, seven rounds and a two-key sort cost ~3-5 ms a call)
    d = f["nodes"]
    amounts = ("in_amount", "passed_on", "paid", "ledger", "left", "retained", "pending")
    left = d["left"].astype(float).to_numpy()
    keep = np.flatnonzero(np.abs(left) > EPS)
    # rounded as pandas rounds (numpy's round-half-even on the scaled value), one array for the seven
    num = np.round(d[list(amounts)].to_numpy(dtype=float)[keep], 2)
    ret, pen = np.abs(d["retained"].to_numpy(dtype=float)[keep]) > EPS, np.abs(d["pending"].to_numpy(dtype=float)[keep]) > EPS
    status = ["overspent" if lv < -EPS else "mixed" if r and p else "retained" if r else "pending"
              for lv, r, p in zip(left[keep].tolist(), ret.tolist(), pen.tolist())]
    at = keep.tolist()
    codes, names, levels, r12 = ([col[i] for i in at] for col in (d[c].tolist() for c in ("region_code", "name", "level", "r12")))
    r12 = [bool(v) for v in r12]
    cols = num.T.tolist()
    order = sorted(range(len(codes)), key=lambda i: (-cols[4][i], codes[i]))      # left, largest first; code
    out = {"region_code": codes, "name": names, "level": levels,
           **dict(zip(amounts, cols)), "status": status, "r12": r12}
    typed = {**dict.fromkeys(amounts, float), "r12": bool}         # (an empty table keeps its types)
    return pd.DataFrame({k: np.array([v[i] for i in order], dtype=typed.get(k, object)) for k, v in out.items()},
                        columns=GAP_COLS)
