"""The village page (村级财务): one village's ledger, invoices, projects, households and I02/I03.

Every function takes the viewer's Scope first. A village is a *by-id* view: a code outside the
scope, or not a village, yields nothing (no clamping to a bigger region). Queries read the
roll-ups (agg_region_year, agg_pay_month, agg_clues) or the drill-down indexes:
ledger (village_code, entry_date), invoices (entry_id), projects (region_code),
people (village_code, household_no), payments (village_code, paid_date), payments (id_number).

The ledger grid (dash-ag-grid, infinite row model) sends ``sortModel``/``filterModel``; they are
turned into SQL over the whitelisted columns of ``LEDGER_COLUMNS`` only (anything else is
ignored), 100 rows a block. ``counterparty_id`` can carry a person's ID number: masked unless
``scope.pii``, and never sortable or filterable (a filter would be an oracle for the full number).
"""
from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, exists, func, not_, or_, select

from core import schema
from core.idnumber import mask_id, mask_name
from core.scope import Scope, level_of, normalize_code
from core.settings import get_settings
from data_access.base import (in_scope, in_scope_param, like_escaped, read_df, read_records, read_rows, region_names,
                              scope_bounds, statement)
from data_access.cache import memoize

L = schema.ledger
I = schema.invoices
P = schema.projects
T = schema.agg_region_year

BLOCK = 100
EXPORT_LIMIT = 100_000
# column -> filter type ("text", "number", "date", None = not filterable), sortable
LEDGER_COLUMNS = {
    "entry_id": ("text", True),
    "entry_date": ("date", True),
    "booked_date": ("date", True),
    "direction": ("set", True),
    "category": ("text", True),
    "amount": ("number", True),
    "counterparty_name": ("text", True),
    "counterparty_id": (None, False),
    "voucher_no": ("text", True),
    "collective_approval": ("set", True),
    "project_code": ("text", True),
}


def village_code(scope: Scope, village) -> str | None:
    """The 12-digit village code when it is a village inside the scope, else None (deny)."""
    if scope is None or scope.is_empty or not village:
        return None
    try:
        code = normalize_code(village)
    except ValueError:
        return None
    if level_of(code) != "village" or not scope.allows(code):
        return None
    return code


def _mask_id(v, scope: Scope):
    return v if scope.pii else mask_id(v)


def _mask_name(v, scope: Scope):
    return v if scope.pii else mask_name(v)


def _params(scope: Scope, code: str) -> dict:
    """The parameters of the statements built once below: the village (``:village``) and the viewer's scope
    (``in_scope_param``: deny by default, an empty scope's range matches nothing)."""
    return {"village": code, **scope_bounds(scope)}


def _date(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    return str(v)[:10]


# --- the village picker ---------------------------------------------------------------------------
@memoize
def villages(scope: Scope, search: str | None = None, limit: int = 50) -> list[dict]:
    """Villages with data inside the scope (from the roll-up), whose name contains ``search``:
    [{code, name, township}] sorted by code, at most ``limit``."""
    if scope is None or scope.is_empty:
        return []
    limit = max(1, min(int(limit), 200))
    s = (search or "").strip()[:40]
    match = ("code" if s.isdigit() else "name") if s else None
    stmt = statement(("village.villages", limit, match), lambda: _villages_stmt(limit, match))
    params = scope_bounds(scope)
    if match:
        params["search"] = like_escaped(s)
    df = read_df(stmt, params=params)
    towns = region_names(df["parent_code"]) if not df.empty else {}
    return [{"code": r.region_code, "name": r.name, "township": towns.get(r.parent_code, "")}
            for r in df.itertuples(index=False)]


def _villages_stmt(limit: int, match: str | None):
    """The regions in scope, by code, that are villages with data (a village-level row of agg_region_year):
    read along the regions' key and stopped at ``limit`` (a DISTINCT over the join of every village-year of
    the range took ~10 ms for the province on PostgreSQL, most of it starting parallel workers)."""
    R = schema.regions
    has_data = exists().where(T.c.region_code == R.c.code, T.c.level == "village")
    stmt = (select(R.c.code.label("region_code"), R.c.name, R.c.parent_code)
            .where(in_scope_param(R.c.code), has_data).order_by(R.c.code).limit(limit))
    if match == "code":
        stmt = stmt.where(R.c.code.startswith(bindparam("search"), escape="/"))
    elif match == "name":
        stmt = stmt.where(R.c.name.contains(bindparam("search"), escape="/"))
    return stmt


# --- summary ---------------------------------------------------------------------------------------
@memoize
def summary(scope: Scope, village) -> dict | None:
    """Totals of the village from the roll-ups: ledger income/expense/entries, payments, clues."""
    code = village_code(scope, village)
    if code is None:
        return None
    totals, clues = statement(("village.summary",), _summary_stmts)
    params = {"village": code}
    r = read_records(totals, params=params)[0]
    if not int(r["rows"] or 0):
        return None
    c = dict(zip(("n", "risk"), read_rows(clues, params=params)[0]))
    name = region_names([code]).get(code, code)

    def num(v):
        return float(v) if v is not None and not pd.isna(v) else 0.0
    return {"code": code, "name": name, "income": num(r["income"]), "expense": num(r["expense"]),
            "n_ledger": int(num(r["n_ledger"])), "paid": num(r["paid"]), "n_payments": int(num(r["n_payments"])),
            "households": None if pd.isna(r["households"]) else int(r["households"]),
            "clues": int(num(c["n"])), "at_risk": num(c["risk"])}


def _summary_stmts():
    A = schema.agg_clues
    totals = (select(func.sum(T.c.ledger_income).label("income"), func.sum(T.c.ledger_expense).label("expense"),
                     func.sum(T.c.n_ledger).label("n_ledger"), func.sum(T.c.paid_amount).label("paid"),
                     func.sum(T.c.n_payments).label("n_payments"), func.max(T.c.households).label("households"),
                     func.count().label("rows"))
              .where(T.c.region_code == bindparam("village")))
    clues = (select(func.sum(A.c.n_clues), func.sum(A.c.amount_at_risk))
             .where(A.c.region_code == bindparam("village")))
    return totals, clues


@memoize
def by_category(scope: Scope, village) -> pd.DataFrame:
    """Income and expense per category: direction, category, n, amount (largest first)."""
    cols = ["direction", "category", "n", "amount"]
    code = village_code(scope, village)
    if code is None:
        return pd.DataFrame(columns=cols)
    stmt = statement(("village.by_category",), lambda: (
        select(L.c.direction, L.c.category, func.count().label("n"), func.sum(L.c.amount).label("amount"))
        .where(L.c.village_code == bindparam("village"), in_scope_param(L.c.village_code))
        .group_by(L.c.direction, L.c.category)))
    df = read_df(stmt, params=_params(scope, code))
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["amount"] = df["amount"].astype(float).round(2)
    df["n"] = df["n"].astype(int)
    return df.sort_values(["direction", "amount"], ascending=[False, False])[cols].reset_index(drop=True)


def _month_expr(col):
    from sqlalchemy import String, cast
    return func.substr(cast(col, String), 1, 7)


def _monthly_stmts():
    m = _month_expr(L.c.entry_date).label("month")
    led = (select(m, L.c.direction, func.sum(L.c.amount).label("amount"))
           .where(L.c.village_code == bindparam("village"), in_scope_param(L.c.village_code))
           .group_by(m, L.c.direction))
    M = schema.agg_pay_month
    pay = (select(M.c.period.label("month"), func.sum(M.c.amount).label("paid"))
           .where(M.c.region_code == bindparam("village"), in_scope_param(M.c.region_code)).group_by(M.c.period))
    return led, pay


@memoize
def monthly(scope: Scope, village) -> pd.DataFrame:
    """Per month (YYYY-MM): ledger income, ledger expense (by entry_date) and payments to households
    (from agg_pay_month, by period)."""
    cols = ["month", "income", "expense", "paid"]
    code = village_code(scope, village)
    if code is None:
        return pd.DataFrame(columns=cols)
    led_stmt, pay_stmt = statement(("village.monthly",), _monthly_stmts)
    params = _params(scope, code)
    led = read_rows(led_stmt, params=params)
    pay = read_rows(pay_stmt, params=params)
    if not led and not pay:
        return pd.DataFrame(columns=cols)
    # the months of either read, joined in plain Python (a pivot, a join, a fill and a sort of a few dozen
    # months cost ~6 ms); a month of neither income nor expense (another direction) is still a month
    sums: dict[str, list[float]] = {}
    for month, direction, amount in led:
        if month is None:
            continue
        row = sums.setdefault(month, [0.0, 0.0, 0.0])
        if direction in ("income", "expense") and amount is not None:
            row[0 if direction == "income" else 1] += float(amount)
    for month, paid in pay:
        row = sums.setdefault(month, [0.0, 0.0, 0.0])
        row[2] += 0.0 if paid is None else float(paid)
    months = sorted(sums)
    # rounded as pandas rounds (numpy's round-half-even on the scaled value)
    vals = np.round(np.array([sums[k] for k in months], dtype=float).reshape(-1, 3), 2)
    return pd.DataFrame({"month": months, "income": vals[:, 0], "expense": vals[:, 1], "paid": vals[:, 2]},
                        columns=cols)


@memoize
def top_payees(scope: Scope, village, n: int = 10) -> pd.DataFrame:
    """The ``n`` counterparties paid most (expenses): name (masked unless pii when it is a person's
    name, i.e. when the entry carries an 18-character ID number), entries, amount."""
    cols = ["counterparty_name", "n", "amount"]
    code = village_code(scope, village)
    if code is None:
        return pd.DataFrame(columns=cols)
    n = max(1, min(int(n), 50))
    df = read_df(statement(("village.top_payees", n), lambda: _top_payees_stmt(n)), params=_params(scope, code))
    if df.empty:
        return pd.DataFrame(columns=cols)
    if not scope.pii:
        is_person = pd.to_numeric(df["idlen"], errors="coerce").fillna(0) == 18
        df.loc[is_person, "counterparty_name"] = df.loc[is_person, "counterparty_name"].map(mask_name)
    df["amount"] = df["amount"].astype(float).round(2)
    df["n"] = df["n"].astype(int)
    return df[cols].reset_index(drop=True)


def _top_payees_stmt(n: int):
    person = func.max(func.length(func.coalesce(L.c.counterparty_id, ""))).label("idlen")
    return (select(L.c.counterparty_name, func.count().label("n"), func.sum(L.c.amount).label("amount"), person)
            .where(L.c.village_code == bindparam("village"), in_scope_param(L.c.village_code),
                   L.c.direction == "expense")
            .group_by(L.c.counterparty_name)
            .order_by(func.sum(L.c.amount).desc()).limit(n))


# --- the ledger (infinite row model) ---------------------------------------------------------------
def _parse_date(v) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v)[:10]) if v else None
    except ValueError:
        return None


def _num(v) -> float | None:
    try:
        f = float(v)
        return f if math.isfinite(f) else None
    except (TypeError, ValueError):
        return None


def _condition(col, kind: str, f: dict):
    """One ag-grid filter condition as SQL, or None when it cannot be honoured."""
    typ = f.get("type")
    if typ == "blank":
        return or_(col.is_(None), col == "") if kind == "text" else col.is_(None)
    if typ == "notBlank":
        return and_(col.isnot(None), col != "") if kind == "text" else col.isnot(None)
    if kind == "text":
        v = f.get("filter")
        if v is None or str(v) == "":
            return None
        v = str(v)[:100]
        return {"contains": lambda: col.icontains(v, autoescape=True),
                "notContains": lambda: or_(col.is_(None), not_(col.icontains(v, autoescape=True))),
                "equals": lambda: col == v, "notEqual": lambda: or_(col.is_(None), col != v),
                "startsWith": lambda: col.istartswith(v, autoescape=True),
                "endsWith": lambda: col.iendswith(v, autoescape=True)}.get(typ, lambda: None)()
    if kind == "number":
        a, b = _num(f.get("filter")), _num(f.get("filterTo"))
        if a is None:
            return None
        ops = {"equals": lambda: func.abs(col - a) < 0.005, "notEqual": lambda: func.abs(col - a) >= 0.005,
               "greaterThan": lambda: col > a, "greaterThanOrEqual": lambda: col >= a,
               "lessThan": lambda: col < a, "lessThanOrEqual": lambda: col <= a,
               "inRange": lambda: and_(col >= a, col <= b) if b is not None else None}
        return ops.get(typ, lambda: None)()
    if kind == "date":
        a, b = _parse_date(f.get("dateFrom")), _parse_date(f.get("dateTo"))
        if a is None:
            return None
        ops = {"equals": lambda: col == a, "notEqual": lambda: col != a, "greaterThan": lambda: col > a,
               "lessThan": lambda: col < a, "greaterThanOrEqual": lambda: col >= a, "lessThanOrEqual": lambda: col <= a,
               "inRange": lambda: and_(col >= a, col <= b) if b is not None else None}
        return ops.get(typ, lambda: None)()
    if kind == "set":
        vals = f.get("values")
        if not isinstance(vals, list):
            return None
        if col.name == "collective_approval":
            bools = [v in (True, 1, "1", "true") for v in vals[:5]]
            return col.in_(bools) if bools else col.is_(None)
        return col.in_([str(v)[:20] for v in vals[:20]])
    return None


def ledger_where(filter_model: dict | None) -> list:
    """SQL conditions for an ag-grid filterModel over the whitelisted columns (others ignored)."""
    out = []
    for name, f in (filter_model or {}).items():
        spec = LEDGER_COLUMNS.get(name)
        if not spec or not spec[0] or not isinstance(f, dict):
            continue
        kind = spec[0]
        col = L.c[name]
        if isinstance(f.get("conditions"), list):
            parts = [c for c in (_condition(col, kind, x) for x in f["conditions"][:4] if isinstance(x, dict))
                     if c is not None]
            if parts:
                out.append(or_(*parts) if str(f.get("operator", "AND")).upper() == "OR" else and_(*parts))
            continue
        c = _condition(col, kind, f)
        if c is not None:
            out.append(c)
    return out


def ledger_order(sort_model: list | None) -> list:
    out = []
    for s in (sort_model or [])[:3]:
        if not isinstance(s, dict):
            continue
        spec = LEDGER_COLUMNS.get(s.get("colId"))
        if spec and spec[1]:
            col = L.c[s["colId"]]
            out.append(col.desc() if s.get("sort") == "desc" else col.asc())
    return out + [L.c.entry_date.desc(), L.c.entry_id.asc()] if not out else out + [L.c.entry_id.asc()]


def canonical_request(request: dict | None) -> str:
    """The part of a getRowsRequest that decides the rows (sort and filter), as a stable cache key."""
    r = request or {}
    return json.dumps({"sortModel": r.get("sortModel") or [], "filterModel": r.get("filterModel") or {}},
                      sort_keys=True, ensure_ascii=False)


def _ledger_rows(df: pd.DataFrame, scope: Scope) -> list[dict]:
    rows = []
    for r in df.to_dict("records"):
        r["entry_date"], r["booked_date"] = _date(r["entry_date"]), _date(r["booked_date"])
        r["amount"] = round(float(r["amount"]), 2)
        cid = r.get("counterparty_id")
        r["counterparty_id"] = None if cid is None or (isinstance(cid, float) and math.isnan(cid)) else _mask_id(cid, scope)
        if not scope.pii and cid and len(str(cid)) == 18:        # a person: the name is personal too
            r["counterparty_name"] = mask_name(r["counterparty_name"])
        ca = r.get("collective_approval")
        r["collective_approval"] = None if ca is None or pd.isna(ca) else bool(ca)
        for k, v in list(r.items()):
            if isinstance(v, float) and math.isnan(v):
                r[k] = None
        rows.append(r)
    return rows


@memoize
def ledger_block(scope: Scope, village, request_key: str, start: int = 0, end: int = BLOCK) -> dict:
    """One block of the ledger for the infinite row model: {rowData, rowCount}. ``request_key`` is
    ``canonical_request(getRowsRequest)``."""
    code = village_code(scope, village)
    if code is None:
        return {"rowData": [], "rowCount": 0}
    try:
        req = json.loads(request_key or "{}")
    except ValueError:
        req = {}
    start = max(0, int(start or 0))
    end = max(start, min(int(end or start + BLOCK), start + BLOCK))
    where = [L.c.village_code == code, in_scope(L.c.village_code, scope)] + ledger_where(req.get("filterModel"))
    total = int(read_df(select(func.count().label("n")).select_from(L).where(*where)).iloc[0]["n"])
    stmt = (select(*[L.c[c] for c in LEDGER_COLUMNS]).where(*where).order_by(*ledger_order(req.get("sortModel")))
            .offset(start).limit(end - start))
    return {"rowData": _ledger_rows(read_df(stmt), scope), "rowCount": total}


@memoize
def ledger_table(scope: Scope, village, request_key: str = "{}") -> pd.DataFrame:
    """The whole filtered, sorted ledger (what the grid shows, for exports; at most EXPORT_LIMIT rows)."""
    code = village_code(scope, village)
    if code is None:
        return pd.DataFrame(columns=list(LEDGER_COLUMNS))
    try:
        req = json.loads(request_key or "{}")
    except ValueError:
        req = {}
    where = [L.c.village_code == code, in_scope(L.c.village_code, scope)] + ledger_where(req.get("filterModel"))
    stmt = (select(*[L.c[c] for c in LEDGER_COLUMNS]).where(*where).order_by(*ledger_order(req.get("sortModel")))
            .limit(EXPORT_LIMIT))
    return pd.DataFrame(_ledger_rows(read_df(stmt), scope), columns=list(LEDGER_COLUMNS))


@memoize
def entry_invoices(scope: Scope, entry_id: str | None) -> dict | None:
    """The entry (its village must be in scope) and its invoices: {entry, invoices (DataFrame)}."""
    if scope is None or scope.is_empty or not entry_id:
        return None
    e = read_df(select(*[L.c[c] for c in LEDGER_COLUMNS], L.c.village_code)
                .where(L.c.entry_id == str(entry_id)[:40], in_scope(L.c.village_code, scope)))
    if e.empty:
        return None
    entry = _ledger_rows(e, scope)[0]
    cols = ["invoice_id", "invoice_code", "invoice_no", "issuer_name", "amount", "issue_date"]
    inv = read_df(select(*[I.c[c] for c in cols]).where(I.c.entry_id == entry["entry_id"])
                  .order_by(I.c.issue_date, I.c.invoice_id))
    if not inv.empty:
        inv["amount"] = inv["amount"].astype(float).round(2)
        inv["issue_date"] = inv["issue_date"].map(_date)
    return {"entry": entry, "invoices": inv.reindex(columns=cols)}


# --- projects, households -------------------------------------------------------------------------
def _projects_stmts():
    FU = schema.funds
    prj = (select(P.c.project_code, P.c.name, P.c.fund_code, FU.c.name.label("fund_name"), P.c.contractor_name,
                  P.c.contract_amount, P.c.planned_quantity, P.c.completed_quantity, P.c.unit, P.c.acceptance_date)
           .select_from(P.outerjoin(FU, FU.c.fund_code == P.c.fund_code))
           .where(P.c.region_code == bindparam("village"), in_scope_param(P.c.region_code)).order_by(P.c.project_code))
    paid = (select(L.c.project_code, func.sum(L.c.amount).label("ledger_paid"))
            .where(L.c.project_code.in_(bindparam("codes", expanding=True)), L.c.direction == "expense",
                   in_scope_param(L.c.village_code))
            .group_by(L.c.project_code))
    return prj, paid


@memoize
def projects(scope: Scope, village) -> pd.DataFrame:
    """Projects located in the village, with what the ledger paid for each."""
    cols = ["project_code", "name", "fund_code", "fund_name", "contractor_name", "contract_amount", "ledger_paid",
            "planned_quantity", "completed_quantity", "unit", "acceptance_date"]
    code = village_code(scope, village)
    if code is None:
        return pd.DataFrame(columns=cols)
    prj, paid_stmt = statement(("village.projects",), _projects_stmts)
    rows = read_records(prj, params=_params(scope, code))
    if not rows:
        return pd.DataFrame(columns=cols)
    # a village's few projects in plain Python, one frame at the end (a merge, four column conversions and a
    # selection cost ~3 ms for two or three rows)
    paid = dict(read_rows(paid_stmt, params={"codes": [r["project_code"] for r in rows], **scope_bounds(scope)}))
    for r in rows:
        v = paid.get(r["project_code"])
        r["ledger_paid"] = round(float(v), 2) if v is not None else 0.0
        r["contract_amount"] = float(r["contract_amount"]) if r["contract_amount"] is not None else math.nan
        r["acceptance_date"] = _date(r["acceptance_date"])
        if r["fund_name"] is None:
            r["fund_name"] = r["fund_code"]
    return pd.DataFrame(rows, columns=cols)


def _households_stmts():
    Pe, Pa = schema.people, schema.payments
    ppl = (select(Pe.c.id_number, Pe.c.name, Pe.c.household_no, Pe.c.relation_to_head, Pe.c.poverty_registered)
           .where(Pe.c.village_code == bindparam("village"), in_scope_param(Pe.c.village_code)))
    pf = (select(Pa.c.id_number, Pa.c.fund_code, func.max(Pa.c.name).label("pay_name"),
                 func.count().label("n_payments"), func.sum(Pa.c.amount).label("paid"),
                 func.max(Pa.c.paid_date).label("last_paid"))
          .where(Pa.c.village_code == bindparam("village"), in_scope_param(Pa.c.village_code))
          .group_by(Pa.c.id_number, Pa.c.fund_code))
    # paid here, registered elsewhere (in scope: their household number) or nowhere
    other = (select(Pe.c.id_number, Pe.c.household_no.label("hh2"), Pe.c.relation_to_head.label("rel2"),
                    Pe.c.poverty_registered.label("pov2"))
             .where(Pe.c.id_number.in_(bindparam("ids", expanding=True)), in_scope_param(Pe.c.village_code)))
    return ppl, pf, other


@memoize
def households(scope: Scope, village) -> pd.DataFrame:
    """Everyone registered in the village and everyone paid in it, one row per person, with their
    payments in the village: household_no (None: not in the register, a household of their own),
    name and id_number (masked unless pii), relation, poverty_registered, registered_here,
    n_payments, paid, funds, last_paid, and ``key`` (the household page's opaque link key)."""
    from data_access.household import person_key
    cols = ["household_no", "name", "id_number", "relation_to_head", "poverty_registered", "registered_here",
            "n_payments", "paid", "funds", "last_paid", "key"]
    code = village_code(scope, village)
    if code is None:
        return pd.DataFrame(columns=cols)
    ppl_stmt, pf_stmt, other_stmt = statement(("village.households",), _households_stmts)
    params = _params(scope, code)
    ppl = read_df(ppl_stmt, params=params)
    ppl["registered_here"] = True
    pf = read_df(pf_stmt, params=params)
    if pf.empty:
        pay = pd.DataFrame(columns=["id_number", "pay_name", "n_payments", "paid", "last_paid", "funds"])
    else:
        pf["last_paid"] = pf["last_paid"].map(_date)
        pay = pf.groupby("id_number").agg(pay_name=("pay_name", "max"), n_payments=("n_payments", "sum"),
                                          paid=("paid", "sum"), last_paid=("last_paid", "max"),
                                          funds=("fund_code", lambda s: ", ".join(sorted(set(s))))).reset_index()
    df = ppl.merge(pay, on="id_number", how="outer")
    if df.empty:
        return pd.DataFrame(columns=cols)
    outsiders = df.loc[df["registered_here"].isna(), "id_number"].tolist()
    if outsiders:   # paid here, registered elsewhere (in scope: their household number) or nowhere
        other = read_df(other_stmt, params={"ids": outsiders[:5000], **scope_bounds(scope)})
        df = df.merge(other, on="id_number", how="left")
        df["household_no"] = df["household_no"].fillna(df["hh2"])
        df["relation_to_head"] = df["relation_to_head"].fillna(df["rel2"])
        df["poverty_registered"] = df["poverty_registered"].fillna(df["pov2"])
    df["registered_here"] = df["registered_here"].eq(True)          # (NaN for those paid here only)
    df["name"] = df["name"].fillna(df["pay_name"])
    df["n_payments"] = pd.to_numeric(df["n_payments"], errors="coerce").fillna(0).astype(int)
    df["paid"] = pd.to_numeric(df["paid"], errors="coerce").fillna(0.0).astype(float).round(2)
    df["last_paid"] = df["last_paid"].map(_date)
    df["funds"] = df["funds"].fillna("")
    df["poverty_registered"] = df["poverty_registered"].map(lambda v: None if v is None or pd.isna(v) else bool(v))
    # by household, relation and ID number, before masking (ordered by the link key, a token derived from the
    # deployment's secret, members who share a relation came in another order on every server)
    df = df.sort_values(["household_no", "relation_to_head", "id_number"], na_position="last")
    df["key"] = df["id_number"].map(person_key)
    df["id_number"] = df["id_number"].map(lambda v: _mask_id(v, scope))
    df["name"] = df["name"].map(lambda v: _mask_name(v, scope))
    df = df.astype(object).where(df.notna(), None)
    return df[cols].reset_index(drop=True)


# --- Benford (I02) and round amounts (I03) ---------------------------------------------------------
BENFORD = [math.log10(1 + 1 / d) for d in range(1, 10)]


def first_digit(amount: float) -> int | None:
    a = abs(float(amount))
    if not math.isfinite(a) or a <= 0:
        return None
    s = f"{a:.15e}"         # scientific notation: the first character is the first significant digit
    return int(s[0])


@memoize
def benford(scope: Scope, village) -> dict | None:
    """First-digit distribution of the village's expense amounts against Benford's law (I02) and the
    share of expenses that are multiples of ``round_amount_unit`` (I03), thresholds from settings.
    {n, enough, min_count, observed[9], expected[9], mad, limit, conform, n_round, round_share, unit}."""
    code = village_code(scope, village)
    if code is None:
        return None
    rs = get_settings().rules
    stmt = statement(("village.benford",), lambda: select(L.c.amount).where(
        L.c.village_code == bindparam("village"), in_scope_param(L.c.village_code), L.c.direction == "expense"))
    amounts = read_df(stmt, params=_params(scope, code))["amount"].astype(float)
    digits = [d for d in (first_digit(a) for a in amounts) if d]
    n = len(digits)
    counts = [digits.count(d) for d in range(1, 10)]
    observed = [c / n for c in counts] if n else [0.0] * 9
    enough = n >= rs.benford_min_count
    mad = sum(abs(o - e) for o, e in zip(observed, BENFORD)) / 9 if n else None
    unit = float(rs.round_amount_unit)
    n_round = int(sum(1 for a in amounts if a > 0 and abs(a / unit - round(a / unit)) < 1e-9))
    return {"n": n, "n_expenses": int(len(amounts)), "enough": enough, "min_count": rs.benford_min_count,
            "counts": counts, "observed": observed, "expected": BENFORD,
            "mad": mad if enough else None, "limit": rs.benford_nonconformity,
            "conform": (mad <= rs.benford_nonconformity) if enough else None,
            "n_round": n_round, "round_share": (n_round / len(amounts)) if len(amounts) else None, "unit": unit}
