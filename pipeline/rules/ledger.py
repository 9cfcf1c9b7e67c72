"""Village finance rules R16-R20 (one clue per ledger entry; R19 one per invoice)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.rules.base import (EPS, EVIDENCE_ROWS, Context, _obj, bools, dates, day_str, empty_clues, evidence_json, factorize,
                                 floats, grouped_records, limited, records, rounded, rule)

_DAY0 = np.datetime64("1900-01-01", "ns")


class Ledger:
    """Arrays of the ledger shared by the rules."""

    def __init__(self, ctx: Context):
        led = ctx.t("ledger").reset_index(drop=True)
        self.df = led
        self.amount = floats(led["amount"])
        self.entry_date = dates(led["entry_date"])
        self.expense = (led["direction"] == "expense").to_numpy(dtype=bool, na_value=False)
        self.index = pd.Index(_obj(led["entry_id"]))
        # "without collective approval": 0, or nothing recorded (see docs/rules.md)
        self.approved = bools(led["collective_approval"], missing=False) if "collective_approval" in led \
            else np.zeros(len(led), dtype=bool)
        fund = np.full(len(led), None, dtype=object)
        if "project_code" in led and ctx.has("projects"):
            prj = ctx.t("projects").drop_duplicates("project_code")
            pos = pd.Index(_obj(prj["project_code"])).get_indexer(_obj(led["project_code"]))
            fund = np.r_[_obj(prj["fund_code"]), np.array([None], dtype=object)][pos]
        self.fund = fund

    def clues(self, rule_id: str, rows: np.ndarray, risk, evidence: list[str]) -> pd.DataFrame:
        p = self.df.iloc[rows]
        return pd.DataFrame({
            "rule": rule_id, "table_name": "ledger", "record_id": _obj(p["entry_id"]),
            "region_code": _obj(p["village_code"]), "fund_code": self.fund[rows], "id_number": None,
            "project_code": _obj(p["project_code"]) if "project_code" in p else None,
            "amount_at_risk": np.asarray(risk, dtype=float), "evidence_json": evidence})

    def text(self, col: str, rows) -> list:
        return _obj(self.df[col].iloc[rows]).tolist() if col in self.df else [None] * len(rows)


def ledger(ctx: Context) -> Ledger:
    if "ledger" not in ctx.memo:
        ctx.memo["ledger"] = Ledger(ctx)
    return ctx.memo["ledger"]


def _entry_fields(lg: Ledger, rows) -> list:
    return [("category", lg.text("category", rows)), ("counterparty_name", lg.text("counterparty_name", rows)),
            ("voucher_no", lg.text("voucher_no", rows)), ("entry_date", day_str(lg.entry_date[rows]))]


@rule("R16", "missing_collective_approval", "ledger", ("ledger",))
def r16(ctx: Context):
    lg = ledger(ctx)
    fire = lg.expense & (lg.amount >= ctx.settings.approval_amount - EPS) & ~lg.approved
    rows = np.flatnonzero(fire)
    approval = lg.df["collective_approval"].iloc[rows] if "collective_approval" in lg.df else pd.Series([None] * len(rows))
    ev = evidence_json(*_entry_fields(lg, rows), ("collective_approval", [None if pd.isna(x) else bool(x) for x in approval]),
                       ("approval_recorded", [not pd.isna(x) for x in approval]))
    return lg.clues("R16", rows, lg.amount[rows], ev), int(lg.expense.sum())


@rule("R17", "late_booking", "ledger", ("ledger",))
def r17(ctx: Context):
    lg = ledger(ctx)
    booked = dates(lg.df["booked_date"])
    ok = ~np.isnat(booked) & ~np.isnat(lg.entry_date)
    days = np.zeros(len(booked), dtype=np.int64)
    days[ok] = (booked[ok] - lg.entry_date[ok]) // np.timedelta64(1, "D")
    rows = np.flatnonzero(ok & (days > ctx.settings.late_booking_days))
    ev = evidence_json(("entry_date", day_str(lg.entry_date[rows])), ("booked_date", day_str(booked[rows])),
                       ("days", days[rows].tolist()), ("voucher_no", lg.text("voucher_no", rows)))
    return lg.clues("R17", rows, lg.amount[rows], ev), len(lg.df)


def _counterparty(lg: Ledger) -> np.ndarray:
    """The counterparty of an entry: its counterparty_id where given, else its name."""
    name = _obj(lg.df["counterparty_name"]) if "counterparty_name" in lg.df else np.full(len(lg.df), None, object)
    cid = _obj(lg.df["counterparty_id"]) if "counterparty_id" in lg.df else np.full(len(lg.df), None, object)
    out = np.where(pd.notna(cid), "id:" + cid.astype(str), "name:" + name.astype(str))
    out[pd.isna(cid) & pd.isna(name)] = None
    return out.astype(object)


@rule("R18", "split_expenses", "ledger", ("ledger",))
def r18(ctx: Context):
    lg, s = ledger(ctx), ctx.settings
    cp = _counterparty(lg)
    cand = np.flatnonzero(lg.expense & (lg.amount < s.approval_amount - EPS) & ~lg.approved & pd.notna(cp)
                          & ~np.isnat(lg.entry_date) & pd.notna(_obj(lg.df["village_code"])))
    examined = int(lg.expense.sum())
    if len(cand) < s.split_min_count:
        return empty_clues(), examined
    g, _ = factorize(_obj(lg.df["village_code"])[cand].astype(str) + "\x1f" + cp[cand].astype(str))
    day = ((lg.entry_date[cand] - _DAY0) // np.timedelta64(1, "D")).astype(np.int64)
    eid = _obj(lg.df["entry_id"])[cand].astype(str)
    order = np.lexsort((eid, day, g))
    cand, g, day = cand[order], g[order], day[order]
    span = int(day.max() - day.min()) + s.split_window_days + 1
    t = g * span + day
    amt = lg.amount[cand]
    end = np.searchsorted(t, t + s.split_window_days, side="right")     # window [day, day + 7] of the group
    csum = np.r_[0.0, np.cumsum(amt)]
    count = end - np.arange(len(t))
    total = csum[end] - csum[np.arange(len(t))]
    q = np.flatnonzero((count >= s.split_min_count) & (total >= s.approval_amount - EPS))
    mark = np.zeros(len(t) + 1, dtype=np.int64)
    np.add.at(mark, q, 1)
    np.add.at(mark, end[q], -1)
    fired = np.cumsum(mark)[:-1] > 0
    if not fired.any():
        return empty_clues(), examined
    # the evidence: the run of fired entries of the same village and counterparty around each one
    brk = np.r_[True, (g[1:] != g[:-1]) | ~fired[:-1] | (day[1:] - day[:-1] > s.split_window_days)]
    run = np.cumsum(brk)
    fi = np.flatnonzero(fired)
    rows = cand[fi]
    ent = pd.DataFrame({"entry_id": _obj(lg.df["entry_id"])[rows], "entry_date": lg.entry_date[rows],
                        "amount": lg.amount[rows]})
    k, lists, counts = grouped_records(run[fi], ent)
    where = dict(zip(k.tolist(), range(len(k))))
    grp = [lists[where[r]] for r in run[fi].tolist()]
    tot = pd.Series(lg.amount[rows]).groupby(run[fi]).sum()
    ev = evidence_json(("counterparty_name", lg.text("counterparty_name", rows)),
                       ("ledger", [[x for x in lst if x["entry_id"] != e] for lst, e in zip(grp, ent["entry_id"])]),
                       ("group_size", [int(counts[where[r]]) for r in run[fi].tolist()]),
                       ("group_total", rounded(tot.reindex(run[fi]).to_numpy())))
    return lg.clues("R18", rows, lg.amount[rows], ev), examined


@rule("R19", "duplicate_invoice", "invoices", ("invoices", "ledger"))
def r19(ctx: Context):
    lg = ledger(ctx)
    inv = ctx.t("invoices").reset_index(drop=True)
    code, no = _obj(inv["invoice_code"]), _obj(inv["invoice_no"])
    ok = pd.notna(code) & pd.notna(no)
    c1, u1 = factorize(code)
    c2, u2 = factorize(no)
    key = np.where(ok, c1 * (len(u2) + 1) + c2, -1 - np.arange(len(inv)))
    dup = np.flatnonzero(pd.Series(key).duplicated(keep=False).to_numpy())
    if not len(dup):
        return empty_clues(), len(inv)
    erow = lg.index.get_indexer(_obj(inv["entry_id"])[dup])
    big = np.iinfo(np.int64).max
    issue = dates(inv["issue_date"])[dup].astype(np.int64)
    issue[np.isnat(dates(inv["issue_date"])[dup])] = big                  # an undated invoice counts as the last
    edate = np.where(erow >= 0, lg.entry_date[np.maximum(erow, 0)].astype(np.int64), big)
    edate[(erow >= 0) & np.isnat(lg.entry_date[np.maximum(erow, 0)])] = big
    order = np.lexsort((_obj(inv["invoice_id"])[dup].astype(str), edate, issue, key[dup]))
    d, er = dup[order], erow[order]
    k = key[d]
    first = np.r_[True, k[1:] != k[:-1]]
    vill = np.r_[_obj(lg.df["village_code"]), np.array([None], dtype=object)][er]
    uses = pd.DataFrame({"invoice_id": _obj(inv["invoice_id"])[d], "entry_id": _obj(inv["entry_id"])[d],
                         "village_code": vill, "issue_date": dates(inv["issue_date"])[d],
                         "entry_date": np.r_[lg.entry_date, np.array(["NaT"], dtype="datetime64[ns]")][er],
                         "amount": floats(inv["amount"])[d]})
    recs = records(uses)
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(d)]
    grp = np.cumsum(first) - 1
    fired = np.flatnonzero(~first)
    firsts, others = [], []
    for i in fired.tolist():
        a, b = starts[grp[i]], ends[grp[i]]
        firsts.append(recs[a])
        others.append([recs[j] for j in range(a + 1, min(b, a + 1 + EVIDENCE_ROWS)) if j != i])
    rows = d[fired]
    proj = np.r_[_obj(lg.df["project_code"]) if "project_code" in lg.df else np.full(len(lg.df), None, object),
                 np.array([None], dtype=object)][er[fired]]
    clues = pd.DataFrame({
        "rule": "R19", "table_name": "invoices", "record_id": _obj(inv["invoice_id"])[rows],
        "region_code": vill[fired], "fund_code": np.r_[lg.fund, np.array([None], dtype=object)][er[fired]],
        "id_number": None, "project_code": proj, "amount_at_risk": floats(inv["amount"])[rows],
        "evidence_json": evidence_json(("invoice_code", code[rows].tolist()), ("invoice_no", no[rows].tolist()),
                                       ("first_use", firsts), ("other_uses", others))})
    return clues, len(inv)


@rule("R20", "unsupported_expense", "ledger", ("ledger", "invoices"))
def r20(ctx: Context):
    lg, s = ledger(ctx), ctx.settings
    inv = ctx.t("invoices").reset_index(drop=True)
    erow = lg.index.get_indexer(_obj(inv["entry_id"]))
    ok = erow >= 0
    amt = floats(inv["amount"])
    n_inv = np.bincount(erow[ok], minlength=len(lg.df))
    total = np.bincount(erow[ok], weights=np.nan_to_num(amt[ok]), minlength=len(lg.df))
    has = n_inv > 0
    short = lg.amount - total
    fire = lg.expense & ((has & (short - s.invoice_tolerance * lg.amount > EPS))
                         | (~has & (lg.amount >= s.invoice_required_amount - EPS)))
    rows = np.flatnonzero(fire)
    sel = ok & np.isin(erow, rows)
    cols = [c for c in ("invoice_id", "invoice_code", "invoice_no", "issuer_name", "amount", "issue_date") if c in inv]
    k, lists, counts = grouped_records(erow[sel], inv[sel][cols])
    where = dict(zip(k.tolist(), range(len(k))))
    lists_all = [lists[where[r]] if r in where else [] for r in rows.tolist()]
    counts_all = np.array([counts[where[r]] if r in where else 0 for r in rows.tolist()])
    ev = evidence_json(*_entry_fields(lg, rows), ("invoice_total", rounded(total[rows])),
                       *limited(lists_all, counts_all, "invoices"))
    return lg.clues("R20", rows, np.where(has[rows], short[rows], lg.amount[rows]), ev), int(lg.expense.sum())
