"""Complaint-handling rules R22 (late acceptance) and R23 (overdue closing); one clue per complaint,
amount at risk = the complaint's amount_involved (0 where not given)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.rules.base import Context, _obj, bools, dates, day_str, evidence_json, floats, rule


def _clues(ctx: Context, rule_id: str, rows: np.ndarray, evidence: list[str]) -> pd.DataFrame:
    c = ctx.t("complaints").reset_index(drop=True).iloc[rows]
    amount = np.nan_to_num(floats(c["amount_involved"]), nan=0.0) if "amount_involved" in c else np.zeros(len(rows))
    opt = {k: (_obj(c[k]) if k in c else None) for k in ("fund_code", "project_code")}
    return pd.DataFrame({"rule": rule_id, "table_name": "complaints", "record_id": _obj(c["complaint_id"]),
                         "region_code": _obj(c["region_code"]), "fund_code": opt["fund_code"], "id_number": None,
                         "project_code": opt["project_code"], "amount_at_risk": amount, "evidence_json": evidence})


def _whole_days(later, earlier) -> np.ndarray:
    return ((later - earlier) // np.timedelta64(1, "D")).astype(np.int64)


@rule("R22", "late_acceptance", "complaints", ("complaints",))
def r22(ctx: Context):
    c = ctx.t("complaints")
    received = dates(c["received_date"])
    accepted = dates(c["accepted_date"])
    ok = ~np.isnat(received)
    acc = ok & ~np.isnat(accepted)
    days = np.zeros(len(c), dtype=np.int64)
    days[acc] = _whole_days(accepted[acc], received[acc])
    days[ok & ~acc] = _whole_days(ctx.as_of, received[ok & ~acc])
    rows = np.flatnonzero(ok & (days > ctx.settings.accept_days))
    ev = evidence_json(("received_date", day_str(received[rows])), ("accepted_date", day_str(accepted[rows])),
                       ("days_to_accept", [int(d) if a else None for d, a in zip(days[rows], acc[rows])]),
                       ("days_unaccepted_at_as_of", [None if a else int(d) for d, a in zip(days[rows], acc[rows])]))
    return _clues(ctx, "R22", rows, ev), int(ok.sum())


def add_months(values: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar-month arithmetic: the same day number ``months`` later, or that month's last day where
    it is shorter (2024-01-31 + 3 months = 2024-04-30; 2024-04-30 + 3 months = 2024-07-30)."""
    s = pd.Series(values)
    out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
    for m in np.unique(months):
        sel = months == m
        out[sel] = (s[sel] + pd.DateOffset(months=int(m))).to_numpy(dtype="datetime64[ns]")
    return out


@rule("R23", "overdue_closing", "complaints", ("complaints",))
def r23(ctx: Context):
    c = ctx.t("complaints")
    s = ctx.settings
    accepted = dates(c["accepted_date"])
    closed = dates(c["closed_date"])
    ext = bools(c["extension_approved"], missing=False) if "extension_approved" in c else np.zeros(len(c), bool)
    scope = ~np.isnat(accepted)
    deadline = add_months(accepted, np.where(ext, s.close_months_extended, s.close_months))
    is_closed = ~np.isnat(closed)
    late = scope & ((is_closed & (closed > deadline)) | (~is_closed & (ctx.as_of > deadline)))
    rows = np.flatnonzero(late)
    ev = evidence_json(("accepted_date", day_str(accepted[rows])), ("deadline", day_str(deadline[rows])),
                       ("closed_date", day_str(closed[rows])), ("extension_approved", ext[rows].tolist()),
                       ("days_over", _whole_days(np.where(is_closed[rows], closed[rows], ctx.as_of),
                                                 deadline[rows]).tolist()))
    return _clues(ctx, "R23", rows, ev), int(scope.sum())
