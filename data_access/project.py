"""The project page (项目): one fund-financed project, its payments, beneficiaries, clues, complaints.

A project is a by-id view: it exists for the viewer only when its ``region_code`` lies inside the
scope (a forged code outside yields None and empty tables). Payments of a project are the
project-linked ledger expenses (ledger.project_code, indexed) and the project-linked payments to
households (payments.project_code, indexed), both inside the scope. Clues by project_code (index
ix_clues_project, added for this page); complaints that name the project, read through the index
(region_code, received_date) under the project's county. Complaint summaries are selected only for
``scope.complaints`` (the complaint officer); complainant fields are never selected here.
"""
from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import bindparam, func, or_, select

from core import schema
from core.idnumber import mask_id, mask_name
from core.scope import Scope, ancestors
from data_access.base import (bounds, in_scope_param, like_escaped, person_params, read_df, region_names, scope_bounds,
                              statement, under_param)
from data_access.cache import memoize

P, F, L, Pa, Q, K = schema.projects, schema.funds, schema.ledger, schema.payments, schema.clues, schema.complaints
SEARCH_LIMIT = 50


def _date(v):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    return str(v)[:10]


def _params(scope: Scope, code: str) -> dict:
    """The parameters of the statements built once below: the project (``:code``) and the viewer's scope
    (``in_scope_param``: deny by default, an empty scope's range matches nothing)."""
    return {"code": code, **scope_bounds(scope)}


def _f(v):
    try:
        f = float(v)
        return f if math.isfinite(f) else None
    except (TypeError, ValueError):
        return None


@memoize
def search(scope: Scope, query: str | None = None, limit: int = SEARCH_LIMIT) -> pd.DataFrame:
    """Projects inside the scope whose code, name or contractor contains ``query`` (all when empty),
    newest first: project_code, name, region_code, region, fund_code, contractor_name, contract_amount."""
    cols = ["project_code", "name", "region_code", "region", "fund_code", "fund_name", "contractor_name",
            "contract_amount"]
    if scope is None or scope.is_empty:
        return pd.DataFrame(columns=cols)
    limit = max(1, min(int(limit), 200))
    q = (query or "").strip()[:60]
    stmt = statement(("project.search", limit, bool(q)), lambda: _search_stmt(limit, bool(q)))
    params = scope_bounds(scope)
    if q:
        params["q"] = like_escaped(q)
    df = read_df(stmt, params=params)
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["region"] = df["region_code"].map(region_names(df["region_code"])).fillna(df["region_code"])
    df["contract_amount"] = df["contract_amount"].astype(float)
    df["fund_name"] = df["fund_name"].fillna(df["fund_code"])
    return df[cols]


def _search_stmt(limit: int, by_query: bool):
    stmt = (select(P.c.project_code, P.c.name, P.c.region_code, P.c.fund_code, F.c.name.label("fund_name"),
                   P.c.contractor_name, P.c.contract_amount)
            .select_from(P.outerjoin(F, F.c.fund_code == P.c.fund_code))
            .where(in_scope_param(P.c.region_code))
            .order_by(P.c.start_date.desc(), P.c.project_code).limit(limit))
    if by_query:
        stmt = stmt.where(or_(P.c.project_code.icontains(bindparam("q"), escape="/"),
                              P.c.name.icontains(bindparam("q"), escape="/"),
                              P.c.contractor_name.icontains(bindparam("q"), escape="/")))
    return stmt


@memoize
def project(scope: Scope, code: str | None) -> dict | None:
    """The project with its fund and progress, or None when unknown or outside the scope."""
    if scope is None or scope.is_empty or not code:
        return None
    stmt = statement(("project.project",), lambda: (
        select(P, F.c.name.label("fund_name"), F.c.category, F.c.year, F.c.standard_amount, F.c.payment_unit)
        .select_from(P.outerjoin(F, F.c.fund_code == P.c.fund_code))
        .where(P.c.project_code == bindparam("code"), in_scope_param(P.c.region_code))))
    df = read_df(stmt, params=_params(scope, str(code)[:40]))
    if df.empty:
        return None
    r = df.iloc[0].to_dict()
    out = {k: (None if (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()}
    for c in ("start_date", "end_date", "acceptance_date"):
        out[c] = _date(out.get(c))
    for c in ("contract_amount", "planned_quantity", "completed_quantity", "standard_amount"):
        out[c] = _f(out.get(c))
    out["region"] = region_names([out["region_code"]]).get(out["region_code"], out["region_code"])
    pays = payments(scope, out["project_code"])
    out["ledger_paid"] = float(pays.loc[pays["source"] == "ledger", "amount"].sum()) if not pays.empty else 0.0
    out["household_paid"] = float(pays.loc[pays["source"] == "payment", "amount"].sum()) if not pays.empty else 0.0
    out["paid"] = round(out["ledger_paid"] + out["household_paid"], 2)
    planned, done, contract = out["planned_quantity"], out["completed_quantity"], out["contract_amount"]
    out["progress"] = (done / planned) if planned and done is not None else None
    out["due"] = round(contract * out["progress"], 2) if contract is not None and out["progress"] is not None else None
    out["paid_share"] = (out["paid"] / contract) if contract else None
    out["paid_after_acceptance"] = (float(pays.loc[pays["after_acceptance"] == True, "amount"].sum())  # noqa: E712
                                    if not pays.empty else 0.0)
    return out


def _payments_stmts():
    prj = (select(P.c.project_code, P.c.acceptance_date)
           .where(P.c.project_code == bindparam("code"), in_scope_param(P.c.region_code)))
    led = (select(L.c.entry_date.label("date"), L.c.entry_id.label("record_id"),
                  L.c.counterparty_name.label("counterparty"), L.c.counterparty_id.label("cid"), L.c.amount)
           .where(L.c.project_code == bindparam("code"), L.c.direction == "expense", in_scope_param(L.c.village_code)))
    pay = (select(Pa.c.paid_date.label("date"), Pa.c.payment_id.label("record_id"),
                  Pa.c.name.label("counterparty"), Pa.c.id_number.label("cid"), Pa.c.amount)
           .where(Pa.c.project_code == bindparam("code"), in_scope_param(Pa.c.village_code)))
    return prj, led, pay


@memoize
def payments(scope: Scope, code: str | None) -> pd.DataFrame:
    """Every payment of the project over time: date, source (ledger / payment), record_id, counterparty
    (a person's name masked unless pii), amount, cumulative, after_acceptance."""
    cols = ["date", "source", "record_id", "counterparty", "amount", "cumulative", "after_acceptance"]
    if scope is None or scope.is_empty or not code:
        return pd.DataFrame(columns=cols)
    prj_stmt, led_stmt, pay_stmt = statement(("project.payments",), _payments_stmts)
    prj = read_df(prj_stmt, params=_params(scope, str(code)[:40]))
    if prj.empty:
        return pd.DataFrame(columns=cols)
    code = prj.iloc[0]["project_code"]
    acc = _date(prj.iloc[0]["acceptance_date"])
    params = _params(scope, code)
    led = read_df(led_stmt, params=params)
    led["source"] = "ledger"
    pay = read_df(pay_stmt, params=params)
    pay["source"] = "payment"
    df = pd.concat([d for d in (led, pay) if not d.empty], ignore_index=True) if not (led.empty and pay.empty) \
        else pd.DataFrame(columns=cols + ["cid"])
    if df.empty:
        return pd.DataFrame(columns=cols)
    if not scope.pii:   # a counterparty with an 18-character ID number is a person
        person = df["cid"].fillna("").astype(str).str.len() == 18
        df.loc[person, "counterparty"] = df.loc[person, "counterparty"].map(mask_name)
    df["date"] = df["date"].map(_date)
    df["amount"] = df["amount"].astype(float).round(2)
    df = df.sort_values(["date", "record_id"]).reset_index(drop=True)
    df["cumulative"] = df["amount"].cumsum().round(2)
    df["after_acceptance"] = df["date"].map(lambda d: (d > acc) if acc and d else None)
    return df[cols]


@memoize
def beneficiaries(scope: Scope, code: str | None) -> pd.DataFrame:
    """Recipients of the project's payments to households: key (household page link), name, id_number
    (masked unless pii), village, n_payments, amount."""
    from data_access.household import person_key
    cols = ["key", "name", "id_number", "village", "n_payments", "amount"]
    if project(scope, code) is None:
        return pd.DataFrame(columns=cols)
    stmt = statement(("project.beneficiaries",), lambda: (
        select(Pa.c.id_number, func.max(Pa.c.name).label("name"), func.max(Pa.c.village_code).label("village_code"),
               func.count().label("n_payments"), func.sum(Pa.c.amount).label("amount"))
        .where(Pa.c.project_code == bindparam("code"), in_scope_param(Pa.c.village_code))
        .group_by(Pa.c.id_number).order_by(Pa.c.id_number)))
    df = read_df(stmt, params=_params(scope, str(code)[:40]))
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["village"] = df["village_code"].map(region_names(df["village_code"])).fillna(df["village_code"])
    df["key"] = df["id_number"].map(person_key)
    if not scope.pii:
        df["id_number"] = df["id_number"].map(mask_id)
        df["name"] = df["name"].map(mask_name)
    df["amount"] = df["amount"].astype(float).round(2)
    df["n_payments"] = df["n_payments"].astype(int)
    return df[cols]


@memoize
def clues(scope: Scope, code: str | None) -> pd.DataFrame:
    """Clues that name the project (its own R13-R15 and those on its ledger entries and payments)."""
    cols = ["rule", "table_name", "record_id", "amount_at_risk", "status"]
    if project(scope, code) is None:
        return pd.DataFrame(columns=cols)
    stmt = statement(("project.clues",), lambda: (
        select(*[Q.c[c] for c in cols]).where(Q.c.project_code == bindparam("code"), in_scope_param(Q.c.region_code))
        .order_by(Q.c.rule, Q.c.record_id)))
    df = read_df(stmt, params=_params(scope, str(code)[:40]))
    if not df.empty:
        df["amount_at_risk"] = df["amount_at_risk"].astype(float).round(2)
    return df.reindex(columns=cols)


@memoize
def complaints(scope: Scope, code: str | None) -> pd.DataFrame:
    """Complaints that name the project, inside the scope; ``summary`` only for ``scope.complaints``."""
    from data_access.complaints import not_about_viewer_param
    base = ["complaint_id", "received_date", "closed_date", "channel", "category", "substantiated", "amount_involved"]
    cols = base + (["summary"] if scope is not None and scope.complaints else [])
    p = project(scope, code)
    if p is None:
        return pd.DataFrame(columns=cols)
    county = ancestors(p["region_code"])[min(2, len(ancestors(p["region_code"])) - 1)]
    person = bool(scope.person_id)            # a viewer linked to an ID number: not the complaints about them
    stmt = statement(("project.complaints", tuple(cols), person), lambda: (
        select(*[K.c[c] for c in cols])
        .where(under_param(K.c.region_code, "county"), in_scope_param(K.c.region_code),
               K.c.project_code == bindparam("code"), *([not_about_viewer_param()] if person else []))
        .order_by(K.c.received_date.desc(), K.c.complaint_id)))
    params = {**bounds(county, "county"), **_params(scope, p["project_code"]), **person_params(scope)}
    df = read_df(stmt, params=params)
    if df.empty:
        return pd.DataFrame(columns=cols)
    for c in ("received_date", "closed_date"):
        df[c] = df[c].map(_date)
    df["substantiated"] = df["substantiated"].map(lambda v: None if v is None or pd.isna(v) else bool(v))
    df = df.astype(object).where(df.notna(), None)
    return df[cols]
