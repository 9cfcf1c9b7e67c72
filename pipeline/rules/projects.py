"""Project rules R13-R15 (one clue per project). "Project-linked expenses" are the ledger rows with
direction `expense` whose project_code is the project's, dated (entry_date) up to as-of."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.scope import prefix_of
from pipeline.rules.base import (EPS, Context, _obj, dates, dumps, empty_clues, floats, grouped_records, records,
                                 rule, serving)

_LEDGER_COLS = ["entry_id", "entry_date", "amount", "category", "counterparty_name"]


def project_expenses(ctx: Context) -> pd.DataFrame:
    """Project-linked ledger expenses up to as-of: prow (row in projects), entry columns; sorted by
    project, entry_date, entry_id."""
    if "project_expenses" in ctx.memo:
        return ctx.memo["project_expenses"]
    led, prj = ctx.t("ledger"), ctx.t("projects").reset_index(drop=True)
    d = dates(led["entry_date"])
    if "project_code" in led:
        m = (led["direction"] == "expense").to_numpy(dtype=bool, na_value=False) & led["project_code"].notna().to_numpy() \
            & ~np.isnat(d) & (d <= ctx.as_of)
    else:
        m = np.zeros(len(led), dtype=bool)
    sub = led[m]
    prow = pd.Index(_obj(prj["project_code"])).get_indexer(_obj(sub["project_code"]))
    cols = [c for c in _LEDGER_COLS if c in sub]
    e = pd.DataFrame({"prow": prow, **{c: sub[c].to_numpy() for c in cols}})
    e["amount"] = floats(e["amount"])
    e["entry_date"] = dates(e["entry_date"])
    e = e[e["prow"] >= 0].sort_values(["prow", "entry_date", "entry_id"], kind="stable").reset_index(drop=True)
    ctx.memo["project_expenses"] = e
    return e


def project_clues(ctx: Context, rule_id: str, rows: np.ndarray, risk, evidence: list[str],
                  id_numbers=None) -> pd.DataFrame:
    p = ctx.t("projects").reset_index(drop=True).iloc[rows]
    return pd.DataFrame({
        "rule": rule_id, "table_name": "projects", "record_id": _obj(p["project_code"]),
        "region_code": _obj(p["region_code"]), "fund_code": _obj(p["fund_code"]),
        "id_number": id_numbers, "project_code": _obj(p["project_code"]),
        "amount_at_risk": np.asarray(risk, dtype=float), "evidence_json": evidence})


def _ledger_lists(e: pd.DataFrame, rows: np.ndarray, upto=None):
    """Per project row: its expense entries (those dated on or before ``upto`` where given)."""
    sub = e[e["prow"].isin(rows)]
    if upto is not None:
        lim = pd.Series(upto, index=rows).reindex(sub["prow"]).to_numpy()
        sub = sub[np.isnat(lim) | (sub["entry_date"].to_numpy() <= lim)]
    k, lists, counts = grouped_records(sub["prow"].to_numpy(), sub.drop(columns="prow"))
    where = dict(zip(k.tolist(), range(len(k))))
    return ([lists[where[r]] if r in where else [] for r in rows.tolist()],
            [int(counts[where[r]]) if r in where else 0 for r in rows.tolist()])


def _json_rows(fields: dict, lists, counts, key="ledger") -> list[str]:
    out = []
    n = len(lists)
    for i in range(n):
        obj = {k: v[i] for k, v in fields.items() if v[i] is not None}
        obj[key] = lists[i]
        if counts[i] > len(lists[i]):
            obj[key + "_more"] = counts[i] - len(lists[i])
        out.append(dumps(obj))
    return out


def _r(x) -> list:
    return [None if np.isnan(v) else round(float(v), 2) for v in np.asarray(x, dtype=float)]


@rule("R13", "paid_beyond_progress", "projects", ("projects", "ledger"))
def r13(ctx: Context):
    prj = ctx.t("projects").reset_index(drop=True)
    e = project_expenses(ctx)
    spent = np.bincount(e["prow"].to_numpy(), weights=e["amount"].to_numpy(), minlength=len(prj))[:len(prj)]
    contract, planned, done = floats(prj["contract_amount"]), floats(prj["planned_quantity"]), floats(prj["completed_quantity"])
    scope = ~np.isnan(contract) & ~np.isnan(done) & (planned > 0)
    limit = np.where(scope, contract * np.where(scope, done, 0) / np.where(scope, planned, 1), np.nan)
    fire = scope & (spent - limit - ctx.settings.beyond_progress_tolerance * limit > EPS)
    rows = np.flatnonzero(fire)
    if not len(rows):
        return empty_clues(), int(scope.sum())
    lists, counts = _ledger_lists(e, rows)
    fields = {"contract_amount": _r(contract[rows]), "planned_quantity": planned[rows].tolist(),
              "completed_quantity": done[rows].tolist(),
              "unit": _obj(prj["unit"].iloc[rows]).tolist() if "unit" in prj else [None] * len(rows),
              "progress_limit": _r(limit[rows]), "expenses": _r(spent[rows])}
    return project_clues(ctx, "R13", rows, spent[rows] - limit[rows], _json_rows(fields, lists, counts)), int(scope.sum())


@rule("R14", "paid_before_acceptance", "projects", ("projects", "ledger"))
def r14(ctx: Context):
    prj = ctx.t("projects").reset_index(drop=True)
    e = project_expenses(ctx)
    contract = floats(prj["contract_amount"])
    accepted = dates(prj["acceptance_date"]) if "acceptance_date" in prj else \
        np.full(len(prj), np.datetime64("NaT"), dtype="datetime64[ns]")
    scope = ~np.isnan(contract)
    # cumulative expenses at the end of each day; the first day they reach the share of the contract
    daily = e.groupby(["prow", "entry_date"], sort=True)["amount"].sum().reset_index()
    daily["cum"] = daily.groupby("prow")["amount"].cumsum()
    thr = ctx.settings.before_acceptance_share * contract
    p = daily["prow"].to_numpy()
    reached = daily[daily["cum"].to_numpy() >= thr[p] - EPS].drop_duplicates("prow")
    rp = reached["prow"].to_numpy()
    rd = reached["entry_date"].to_numpy()
    before = np.isnat(accepted[rp]) | (rd < accepted[rp])
    ok = scope[rp] & before
    rows, rdate, rcum = rp[ok], rd[ok], reached["cum"].to_numpy()[ok]
    if not len(rows):
        return empty_clues(), int(scope.sum())
    ed, ep = e["entry_date"].to_numpy(), e["prow"].to_numpy()
    acc_e = accepted[ep]
    unaccepted_paid = np.bincount(ep, weights=np.where(np.isnat(acc_e) | (ed < acc_e), e["amount"].to_numpy(), 0.0),
                                  minlength=len(prj))[:len(prj)]
    lists, counts = _ledger_lists(e, rows, upto=rdate)
    acc = records(pd.DataFrame({"a": accepted[rows], "r": rdate}))
    fields = {"contract_amount": _r(contract[rows]), "threshold": _r(thr[rows]),
              "reached_date": [x["r"] for x in acc], "paid_by_then": _r(rcum),
              "acceptance_date": [x["a"] for x in acc], "paid_before_acceptance": _r(unaccepted_paid[rows])}
    if not any(v is not None for v in fields["acceptance_date"]):
        fields.pop("acceptance_date")
    return project_clues(ctx, "R14", rows, unaccepted_paid[rows], _json_rows(fields, lists, counts)), int(scope.sum())


@rule("R15", "contractor_linked_to_cadre", "projects", ("projects", "enterprises", "village_cadres", "people"))
def r15(ctx: Context):
    prj = ctx.t("projects").reset_index(drop=True)
    ent = ctx.t("enterprises").reset_index(drop=True)
    if "contractor_credit_code" not in prj:
        return empty_clues(), 0
    cc = _obj(prj["contractor_credit_code"])
    scope = pd.notna(cc)
    erow = pd.Index(_obj(ent.drop_duplicates("credit_code")["credit_code"])).get_indexer(cc)
    ent = ent.drop_duplicates("credit_code").reset_index(drop=True)
    has = scope & (erow >= 0)
    pr = np.flatnonzero(has)
    person = _obj(ent["legal_person_id"])[erow[pr]]
    links = ctx.cadre_links
    pairs = pd.DataFrame({"prow": pr, "erow": erow[pr], "member_id": person}).dropna(subset=["member_id"]) \
        .merge(links.reset_index().rename(columns={"index": "lrow"}), on="member_id")
    if pairs.empty:
        return empty_clues(), int(scope.sum())
    cad = ctx.t("village_cadres").reset_index(drop=True)
    prow, crow = pairs["prow"].to_numpy(), pairs["cadre_row"].to_numpy()
    region = _obj(prj["region_code"])[prow]
    prefixes = {c: prefix_of(c) for c in pd.unique(region) if isinstance(c, str)}
    cv = _obj(cad["village_code"])[crow]
    inside = np.array([isinstance(v, str) and isinstance(r, str) and r in prefixes and v.startswith(prefixes[r])
                       for v, r in zip(cv, region)], dtype=bool)
    start = dates(prj["start_date"])[prow] if "start_date" in prj else np.full(len(prow), np.datetime64("NaT"), "datetime64[ns]")
    on = np.where(np.isnat(start), ctx.as_of, start)
    ok = inside & serving(dates(cad["start_date"])[crow], dates(cad["end_date"])[crow], on)
    hit = pairs[ok]
    if hit.empty:
        return empty_clues(), int(scope.sum())
    cr = ctx.cadre_records(hit["cadre_row"].to_numpy())
    cr["relation"] = hit["relation"].to_numpy()
    rows, lists, counts = grouped_records(hit["prow"].to_numpy(), cr)
    ecols = [c for c in ("credit_code", "name", "legal_person_id", "registered_date", "status") if c in ent]
    erecs = records(ent.iloc[erow[rows]][ecols])
    ev = []
    for er, lst, n in zip(erecs, lists, counts):
        obj = {"enterprises": [er], "village_cadres": lst}
        if n > len(lst):
            obj["village_cadres_more"] = int(n - len(lst))
        ev.append(dumps(obj))
    legal = _obj(ent["legal_person_id"])[erow[rows]]
    return project_clues(ctx, "R15", rows, floats(prj["contract_amount"])[rows], ev, id_numbers=legal), int(scope.sum())
