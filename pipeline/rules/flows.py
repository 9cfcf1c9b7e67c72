"""Money flows down the levels: R11 (stagnant allocation) and R12 (retained at a level).

"What left" a region R for a fund f (clue-rules.md) = the allocations of f from R to child regions,
plus the payments of f and the ledger expenses of projects of f made inside R but not inside a child
region that received an allocation of f from R; everything dated up to as-of.

Computed once for all (fund, region) pairs: payments and project expenses are first summed per
(village, fund) (a few hundred thousand rows even at province scale); each such sum is then credited
to every ancestor R of its village (province .. village) for which no region between R (exclusive)
and the village (inclusive) received an allocation of f from R. Regions are nested by their codes
(core.scope: the 2/4/6/9/12-digit prefixes).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.scope import LEVELS, PREFIX_LEN, level_of
from pipeline.rules.base import (EPS, Context, _obj, dates, dumps, empty_clues, factorize, floats, grouped_records,
                                 records, rule)

_OUT_COLS = ["allocation_id", "to_region_code", "amount", "allocated_date"]
_IN_COLS = ["allocation_id", "from_region_code", "amount", "allocated_date"]


def ancestors(codes) -> np.ndarray:
    """(n, 5) object array: the province, city, county, township and village containing each code
    (the code itself at its own level; None below it, and for anything that is not a region code)."""
    out = np.full((len(codes), len(LEVELS)), None, dtype=object)
    for i, c in enumerate(codes):
        try:
            lvl = LEVELS.index(level_of(c))
        except (ValueError, TypeError):
            continue
        for j in range(lvl + 1):
            out[i, j] = c[:PREFIX_LEN[LEVELS[j]]].ljust(12, "0")
    return out


class Flows:
    """Inflow and what left, per (fund, region), and the allocations up to as-of."""

    def __init__(self, ctx: Context):
        al = ctx.t("allocations")
        d = dates(al["allocated_date"])
        keep = ~np.isnat(d) & (d <= ctx.as_of)
        self.alloc = pd.DataFrame({
            "allocation_id": _obj(al["allocation_id"])[keep], "fund_code": _obj(al["fund_code"])[keep],
            "from_region_code": _obj(al["from_region_code"])[keep], "to_region_code": _obj(al["to_region_code"])[keep],
            "amount": floats(al["amount"])[keep], "allocated_date": d[keep]}).reset_index(drop=True)
        spend = self._spend(ctx)
        # integer codes for regions and funds
        villages = spend["village_code"].unique() if len(spend) else np.array([], dtype=object)
        anc_v = ancestors(villages)
        regions = pd.Index(pd.unique(np.concatenate([
            anc_v.ravel()[pd.notna(anc_v.ravel())], self.alloc["from_region_code"].dropna().to_numpy(),
            self.alloc["to_region_code"].dropna().to_numpy()]).astype(object)))
        funds = pd.Index(pd.unique(np.concatenate([spend["fund_code"].to_numpy(), self.alloc["fund_code"].to_numpy()])
                                   .astype(object)))
        nr = len(regions) + 1

        def rc(values):
            v = np.asarray(values, dtype=object)
            out = np.full(len(v), -1, dtype=np.int64)
            ok = pd.notna(v)
            if ok.any():
                out[ok] = regions.get_indexer(v[ok])
            return out

        a_f = funds.get_indexer(self.alloc["fund_code"].to_numpy())
        a_from, a_to = rc(self.alloc["from_region_code"]), rc(self.alloc["to_region_code"])
        triples = np.unique(((a_f * nr) + a_from) * nr + a_to)
        # credit each (village, fund) sum to the ancestors it left
        v_pos = pd.Index(villages).get_indexer(spend["village_code"].to_numpy()) if len(spend) else np.zeros(0, int)
        anc = np.stack([rc(anc_v[:, j]) for j in range(len(LEVELS))], axis=1)[v_pos] if len(spend) else \
            np.zeros((0, len(LEVELS)), dtype=np.int64)
        s_f = funds.get_indexer(spend["fund_code"].to_numpy())
        parts = []
        for i in range(len(LEVELS)):
            r = anc[:, i]
            covered = np.zeros(len(spend), dtype=bool)
            for j in range(i + 1, len(LEVELS)):
                c = anc[:, j]
                hit = (r >= 0) & (c >= 0)
                covered[hit] |= np.isin(((s_f[hit] * nr) + r[hit]) * nr + c[hit], triples)
            take = (r >= 0) & ~covered
            parts.append(pd.DataFrame({"f": s_f[take], "r": r[take], "paid": spend["paid"].to_numpy()[take],
                                       "ledger": spend["ledger"].to_numpy()[take]}))
        inside = pd.concat(parts, ignore_index=True).groupby(["f", "r"], sort=False)[["paid", "ledger"]].sum() \
            if parts else pd.DataFrame(columns=["paid", "ledger"])
        passed = pd.DataFrame({"f": a_f, "r": a_from, "passed_on": self.alloc["amount"].to_numpy()}) \
            .groupby(["f", "r"], sort=False)["passed_on"].sum()
        inflow = pd.DataFrame({"f": a_f, "r": a_to, "inflow": self.alloc["amount"].to_numpy()}) \
            .groupby(["f", "r"], sort=False)["inflow"].sum()
        tab = pd.concat([inflow, passed, inside], axis=1).fillna(0.0)
        tab["left"] = tab["passed_on"] + tab["paid"] + tab["ledger"]
        f_idx, r_idx = tab.index.get_level_values(0).to_numpy(), tab.index.get_level_values(1).to_numpy()
        tab.index = pd.MultiIndex.from_arrays([funds.to_numpy()[f_idx], regions.to_numpy()[r_idx]],
                                              names=["fund_code", "region_code"])
        self.table = tab        # per (fund_code, region_code): inflow, passed_on, paid, ledger, left

    @staticmethod
    def _spend(ctx: Context) -> pd.DataFrame:
        """Payments and project-linked ledger expenses up to as-of, summed per (village, fund)."""
        frames = []
        pay = ctx.pay
        vc, villages = ctx.pay_villages
        fc, funds = ctx.pay_funds
        ok = (vc >= 0) & (fc >= 0) & ~np.isnat(ctx.pay_paid) & (ctx.pay_paid <= ctx.as_of)
        if len(pay) and ok.any():
            key = vc[ok] * len(funds) + fc[ok]
            sums = np.bincount(key, weights=ctx.pay_amount[ok], minlength=len(villages) * len(funds))
            nz = np.flatnonzero(np.bincount(key, minlength=len(villages) * len(funds)))
            frames.append(pd.DataFrame({"village_code": villages[nz // len(funds)], "fund_code": funds[nz % len(funds)],
                                        "paid": sums[nz], "ledger": 0.0}))
        if ctx.has("ledger") and ctx.has("projects") and "project_code" in ctx.t("ledger"):
            led = ctx.t("ledger")
            prj = ctx.t("projects").drop_duplicates("project_code")
            d = dates(led["entry_date"])
            m = (led["direction"] == "expense").to_numpy(dtype=bool, na_value=False) & led["project_code"].notna() \
                .to_numpy() & ~np.isnat(d) & (d <= ctx.as_of)
            sub = pd.DataFrame({"village_code": _obj(led["village_code"])[m], "project_code": _obj(led["project_code"])[m],
                                "ledger": floats(led["amount"])[m]})
            sub = sub.merge(pd.DataFrame({"project_code": _obj(prj["project_code"]), "fund_code": _obj(prj["fund_code"])}),
                            on="project_code")
            if len(sub):
                g = sub.groupby(["village_code", "fund_code"], sort=False)["ledger"].sum().reset_index()
                g["paid"] = 0.0
                frames.append(g)
        if not frames:
            return pd.DataFrame({"village_code": [], "fund_code": [], "paid": [], "ledger": []})
        s = pd.concat(frames, ignore_index=True).groupby(["village_code", "fund_code"], sort=False)[["paid", "ledger"]] \
            .sum().reset_index()
        return s[s["village_code"].notna() & s["fund_code"].notna()]

    def row(self, fund_codes, region_codes, column: str) -> np.ndarray:
        idx = pd.MultiIndex.from_arrays([np.asarray(fund_codes, dtype=object), np.asarray(region_codes, dtype=object)])
        return self.table[column].reindex(idx).fillna(0.0).to_numpy()

    def allocation_lists(self, fund_codes, region_codes, side: str) -> tuple[list, list]:
        """Per (fund, region): the allocations out of it (side "from") or into it (side "to")."""
        a = self.alloc
        col, cols = ("from_region_code", _OUT_COLS) if side == "from" else ("to_region_code", _IN_COLS)
        keys = pd.Series(list(zip(np.asarray(fund_codes, dtype=object), np.asarray(region_codes, dtype=object))))
        a_keys = pd.Series(list(zip(a["fund_code"], a[col])))
        want = a_keys.isin(set(keys)).to_numpy()
        sub = a[want].sort_values(["allocated_date", "allocation_id"])
        pos = pd.Index(pd.unique(keys)).get_indexer(pd.Series(list(zip(sub["fund_code"], sub[col]))))
        k, lists, counts = grouped_records(pos, sub[cols])
        where = dict(zip(k.tolist(), range(len(k))))
        kpos = pd.Index(pd.unique(keys)).get_indexer(keys)
        return ([lists[where[p]] if p in where else [] for p in kpos.tolist()],
                [int(counts[where[p]]) if p in where else 0 for p in kpos.tolist()])


def flows(ctx: Context) -> Flows:
    if "flows" not in ctx.memo:
        ctx.memo["flows"] = Flows(ctx)
    return ctx.memo["flows"]


def _breakdown(fl: Flows, f, r) -> dict:
    return {k: fl.row(f, r, k) for k in ("inflow", "passed_on", "paid", "ledger", "left")}


def _evidence(base: dict, outs, n_out, extra_lists=()) -> list[str]:
    out = []
    n = len(next(iter(base.values()))) if base else 0
    for i in range(n):
        obj = {k: (round(float(v[i]), 2) if isinstance(v[i], (float, np.floating)) else v[i]) for k, v in base.items()}
        obj["allocations_out"] = outs[i]
        if n_out[i] > len(outs[i]):
            obj["allocations_out_more"] = n_out[i] - len(outs[i])
        for key, lists, counts in extra_lists:
            obj[key] = lists[i]
            if counts[i] > len(lists[i]):
                obj[key + "_more"] = counts[i] - len(lists[i])
        out.append(dumps(obj))
    return out


@rule("R11", "stagnant_allocation", "allocations", ("allocations", "payments"))
def r11(ctx: Context):
    fl = flows(ctx)
    s = ctx.settings
    a = fl.alloc.sort_values(["fund_code", "to_region_code", "allocated_date", "allocation_id"]).reset_index(drop=True)
    a["received_to_date"] = a.groupby(["fund_code", "to_region_code"], sort=False)["amount"].cumsum()
    mature = ((ctx.as_of - a["allocated_date"].to_numpy()) >= np.timedelta64(s.stagnant_days, "D"))
    a = a[mature].reset_index(drop=True)
    left = fl.row(a["fund_code"], a["to_region_code"], "left")
    fire = left < s.stagnant_share * a["received_to_date"].to_numpy() - EPS
    c = a[fire].reset_index(drop=True)
    if c.empty:
        return empty_clues(), len(a)
    left = left[fire]
    received = c["received_to_date"].to_numpy()
    risk = np.minimum(c["amount"].to_numpy(), np.maximum(received - left, 0.0))
    parts = _breakdown(fl, c["fund_code"], c["to_region_code"])
    outs, n_out = fl.allocation_lists(c["fund_code"], c["to_region_code"], "from")
    base = {"allocated_date": [r["allocated_date"] for r in records(c[["allocated_date"]])],
            "days": ((ctx.as_of - c["allocated_date"].to_numpy()) // np.timedelta64(1, "D")).tolist(),
            "received_to_date": received, "left": left,
            "passed_on": parts["passed_on"], "paid": parts["paid"], "ledger": parts["ledger"],
            "share_left": np.where(received > 0, left / np.where(received > 0, received, 1), 0.0)}
    base["share_left"] = np.round(base["share_left"], 4)
    clues = pd.DataFrame({
        "rule": "R11", "table_name": "allocations", "record_id": c["allocation_id"].to_numpy(),
        "region_code": c["to_region_code"].to_numpy(), "fund_code": c["fund_code"].to_numpy(), "id_number": None,
        "project_code": None, "amount_at_risk": risk, "evidence_json": _evidence(base, outs, n_out)})
    return clues, len(a)


@rule("R12", "retained_at_level", "allocations", ("allocations", "funds", "payments"))
def r12(ctx: Context):
    fl = flows(ctx)
    s = ctx.settings
    tab = fl.table[fl.table["inflow"] > 0].reset_index()
    lvl = pd.Series(tab["region_code"]).map(lambda c: level_of(c) if isinstance(c, str) else None)
    tab = tab[lvl.isin(["city", "county", "township"]).to_numpy()]
    funds = ctx.t("funds").drop_duplicates("fund_code").set_index("fund_code")
    year = floats(funds["year"].reindex(pd.Index(tab["fund_code"], dtype=object)))
    ok_year = ~np.isnan(year)
    year_end = np.full(len(tab), np.datetime64("NaT"), dtype="datetime64[ns]")
    year_end[ok_year] = ((year[ok_year].astype(np.int64) + 1 - 1970).astype("datetime64[Y]")).astype("datetime64[ns]")
    due = ok_year & (ctx.as_of >= year_end + np.timedelta64(s.retained_days_after_year, "D"))
    tab = tab[due].reset_index(drop=True)
    gap = tab["inflow"].to_numpy() - tab["left"].to_numpy()
    fire = gap - s.retained_share * tab["inflow"].to_numpy() > EPS
    c = tab[fire].reset_index(drop=True)
    if c.empty:
        return empty_clues(), len(tab)
    outs, n_out = fl.allocation_lists(c["fund_code"], c["region_code"], "from")
    ins, n_in = fl.allocation_lists(c["fund_code"], c["region_code"], "to")
    base = {k: c[k].to_numpy() for k in ("inflow", "passed_on", "paid", "ledger", "left")}
    base["gap"] = gap[fire]
    base["share_retained"] = np.round(gap[fire] / c["inflow"].to_numpy(), 4)
    clues = pd.DataFrame({
        "rule": "R12", "table_name": "allocations",
        "record_id": (c["fund_code"].astype(str) + "|" + c["region_code"].astype(str)).to_numpy(),
        "region_code": c["region_code"].to_numpy(), "fund_code": c["fund_code"].to_numpy(), "id_number": None,
        "project_code": None, "amount_at_risk": gap[fire],
        "evidence_json": _evidence(base, outs, n_out, [("allocations_in", ins, n_in)])})
    return clues, len(tab)
