"""Pure builders for the township comparison: Tukey fences, the ranking chart, small multiples by month,
and the ranking table's rows (the same rows for the screen and the export)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from components.figures import COLORWAY, empty_figure, figure
from components.format import pct, yuan
from core.i18n import t
from data_access.base import as_float, is_missing, plain_records

METRICS = ("funds_per_household", "share_paid", "complaints_per_10k", "substantiation_rate", "anomaly_rate")
RATE_METRICS = ("share_paid", "substantiation_rate", "anomaly_rate")
TABLE_FIELDS = ("rank", "name", "region_code", "households", "population", "allocated_in", "paid_amount",
                "funds_per_household", "share_paid", "complaints", "complaints_per_10k", "substantiation_rate",
                "anomaly_rate", "anomaly_rate_amount", "outliers")


def tukey(values, k: float = 1.5) -> dict | None:
    """Tukey's fences over the non-missing values: q1, q3 (pandas' linear quantiles), iqr, low = q1 - k*iqr,
    high = q3 + k*iqr. None with fewer than 4 values (quartiles of 3 numbers mean nothing)."""
    v = sorted(x for x in map(as_float, values) if not math.isnan(x))   # (as pd.to_numeric(errors="coerce"))
    if len(v) < 4:
        return None
    q1, q3 = _quantile(v, 0.25), _quantile(v, 0.75)       # linear, as pandas' and numpy's quantile
    iqr = q3 - q1
    return {"q1": q1, "q3": q3, "iqr": iqr, "low": q1 - k * iqr, "high": q3 + k * iqr, "n": int(len(v))}


def _quantile(v: list[float], q: float) -> float:
    """numpy.quantile(v, q) (the linear method) of sorted floats, in plain Python and bit for bit: the same
    virtual index and the same two-sided interpolation as numpy's ``_lerp`` (numpy's call cost ~28 us, and the
    page asks for eleven quartile pairs; checked against numpy over 200,000 random samples)."""
    n = len(v)
    virtual = n * q + (1 - q) - 1
    lo = min(max(math.floor(virtual), 0), n - 1)
    g = virtual - math.floor(virtual)
    a, b = v[lo], v[min(lo + 1, n - 1)]
    d = b - a
    return b - d * (1 - g) if g >= 0.5 else a + d * g


def outlier_side(value, fence: dict | None) -> str | None:
    if fence is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value > fence["high"] + 1e-12:
        return "high"
    if value < fence["low"] - 1e-12:
        return "low"
    return None


def fences(df: pd.DataFrame) -> dict[str, dict | None]:
    return {m: tukey(df[m]) if m in df else None for m in METRICS}


def fmt_metric(metric: str, v, lang: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if metric in RATE_METRICS or metric == "anomaly_rate_amount":
        return pct(v, 1)
    if metric == "funds_per_household":
        return yuan(v, lang)        # one unit for every bar and fence of the chart
    return f"{float(v):,.1f}"


def fence_text(metric: str, fence: dict | None, lang: str) -> str:
    if fence is None:
        return t("townships.fence_none", lang)
    f = lambda v: fmt_metric(metric, v, lang)  # noqa: E731
    return t("townships.fence", lang, low=f(fence["low"]), q1=f(fence["q1"]), q3=f(fence["q3"]), high=f(fence["high"]))


def _order(values, codes) -> tuple[list[int], list[bool]]:
    """The ranking: positions by value, highest first, missing last, ties by code; and which are missing
    (they have no rank). Over plain lists: a two-key sort_values cost ~1 ms, and the page ranks three times."""
    v = [as_float(x) for x in values]
    nan = [math.isnan(x) for x in v]
    order = sorted(range(len(v)), key=lambda i: (nan[i], 0.0 if nan[i] else -v[i], codes[i]))
    return order, nan


def table_rows(df: pd.DataFrame, metric: str, lang: str) -> list[dict]:
    """The ranking table as shown and exported: raw numbers (rates as fractions to 4 decimals), the
    outlier flags of every metric as text."""
    if df.empty:
        return []
    fs = fences(df)
    rows = []
    recs = plain_records(df)
    order, nan = _order(df[metric].tolist(), df["region_code"].tolist())
    for k, i in enumerate(order):
        r = recs[i]
        r["rank"] = None if nan[i] else k + 1
        flags = []
        for m in METRICS:
            side = outlier_side(r.get(m), fs[m])
            if side:
                flags.append(t(f"townships.outlier_{side}", lang, metric=t(f"townships.metric.{m}", lang)))
        row = {"rank": None if r["rank"] is None else int(r["rank"]), "name": r["name"], "region_code": r["region_code"],
               "households": _int(r["households"]), "population": _int(r["population"]),
               "allocated_in": round(float(r["allocated_in"]), 2), "paid_amount": round(float(r["paid_amount"]), 2),
               "complaints": int(r["complaints"]), "outliers": "；".join(flags) if lang == "zh" else "; ".join(flags)}
        for m in ("funds_per_household", "complaints_per_10k"):
            row[m] = _round(r[m], 2)
        for m in ("share_paid", "substantiation_rate", "anomaly_rate", "anomaly_rate_amount"):
            row[m] = _round(r[m], 4)
        rows.append(row)
    return rows


def _int(v):
    return None if v is None or pd.isna(v) else int(v)


def _round(v, n):
    return None if v is None or pd.isna(v) else round(float(v), n)


def table_columns(metric: str, lang: str) -> list[dict]:
    pct_fmt = {"function": "params.value == null ? '—' : d3.format('.1%')(params.value)"}
    num_fmt = {"function": "params.value == null ? '—' : d3.format(',.2f')(params.value)"}
    int_fmt = {"function": "params.value == null ? '—' : d3.format(',')(params.value)"}
    cols = []
    for c in TABLE_FIELDS:
        d = {"field": c, "headerName": t(f"townships.col.{c}", lang), "sortable": True, "resizable": True}
        if c in ("share_paid", "substantiation_rate", "anomaly_rate", "anomaly_rate_amount"):
            d.update({"valueFormatter": pct_fmt, "type": "rightAligned", "width": 120})
        elif c in ("allocated_in", "paid_amount", "funds_per_household", "complaints_per_10k"):
            d.update({"valueFormatter": num_fmt, "type": "rightAligned", "width": 130})
        elif c in ("households", "population", "complaints", "rank"):
            d.update({"valueFormatter": int_fmt, "type": "rightAligned", "width": 95})
        elif c == "name":
            d.update({"pinned": "left", "width": 120, "cellClass": "flows-link"})
        elif c == "outliers":
            d.update({"flex": 1, "minWidth": 200, "cellStyle": {"color": "#c0392b"}})
        else:
            d.update({"width": 130})
        if c == metric:
            d["headerClass"] = "fw-bold"
            d["cellStyle"] = {"fontWeight": "bold"}
        cols.append(d)
    return cols


def ranking_figure(df: pd.DataFrame, metric: str, lang: str) -> dict:
    """Horizontal bars of ``metric``, outliers in red, the fences drawn and labelled with their values."""
    # over plain lists (pandas' dropna, ranking and reversal cost ~1.5 ms a figure)
    raw = df[metric].tolist()
    keep = [i for i, v in enumerate(raw) if not is_missing(v)]
    if not keep:
        return empty_figure(t("townships.no_data", lang))
    fence = tukey(raw)
    codes_all, names_all = df["region_code"].tolist(), df["name"].tolist()
    order, _nan = _order([raw[i] for i in keep], [codes_all[i] for i in keep])
    pos = [keep[j] for j in order][::-1]                # ranked, then reversed: the largest bar on top
    scale = 100.0 if metric in RATE_METRICS else 1.0
    vals = [float(raw[i]) for i in pos]
    sides = [outlier_side(v, fence) for v in vals]
    colors = ["#c0392b" if s else "#2e6da4" for s in sides]
    text = [fmt_metric(metric, v, lang) + (" ▲" if s == "high" else " ▼" if s == "low" else "")
            for v, s in zip(vals, sides)]
    shapes, notes = [], []
    if fence is not None:
        for key in ("low", "high"):
            x = fence[key] * scale
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                           "line": {"color": "#c0392b", "dash": "dash", "width": 1}})
            notes.append({"x": x, "y": 1.0, "xref": "x", "yref": "paper", "yanchor": "bottom", "showarrow": False,
                          "text": t(f"townships.fence_{key}", lang, value=fmt_metric(metric, fence[key], lang)),
                          "font": {"size": 11, "color": "#c0392b"}})
    data = [{"type": "bar", "orientation": "h", "x": np.round(np.array(vals, dtype=float) * scale, 4).tolist(),
             "y": [names_all[i] for i in pos], "customdata": [codes_all[i] for i in pos], "text": text, "textposition": "auto",
             "marker": {"color": colors}, "hovertemplate": "%{y}: %{text}<extra></extra>"}]
    return figure(data, t(f"townships.metric.{metric}", lang), shapes=shapes, annotations=notes,
                  height=max(320, 46 * len(pos) + 110), margin={"l": 110, "r": 24, "t": 64, "b": 36},
                  xaxis={"ticksuffix": "%" if scale == 100 else "", "zeroline": True}, yaxis={"automargin": True})


def small_multiples(monthly: pd.DataFrame, df: pd.DataFrame, metric: str, lang: str, cols: int = 3) -> dict:
    """One small chart per township with the same axes: paid to households per household per month (for the
    fund metrics and the anomaly rate) or complaints per 10,000 residents per month."""
    if monthly.empty or df.empty:
        return empty_figure(t("townships.no_data", lang))
    complaints = metric in ("complaints_per_10k", "substantiation_rate")
    # over plain lists (pandas' map, where, unique, drop_duplicates and indexers cost ~3 ms a figure)
    d_codes = df["region_code"].tolist()
    names = dict(zip(d_codes, df["name"].tolist()))
    denom = dict(zip(d_codes, (as_float(v) for v in df["population" if complaints else "households"].tolist())))
    m_codes, m_periods = monthly["region_code"].tolist(), monthly["period"].tolist()
    num = monthly["complaints" if complaints else "paid_amount"].tolist()
    vs = []
    for code, x in zip(m_codes, num):
        q = denom.get(code, math.nan)
        v = as_float(x) / q if q > 0 else math.nan
        vs.append(v * 10000 if complaints else v)
    title = t("townships.sm_complaints" if complaints else "townships.sm_paid", lang)
    periods = sorted(set(m_periods))
    present = set(m_codes)
    order, _nan = _order(df[metric].tolist(), d_codes)
    codes = [d_codes[i] for i in order if d_codes[i] in present]
    n = len(codes)
    if n == 0:
        return empty_figure(t("townships.no_data", lang))
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    finite = [v for v in vs if not math.isnan(v)]
    ymax = max(finite) if finite else 1.0
    gap_x, gap_y = 0.06, 0.12 / max(rows, 1) + 0.04
    w, h = (1 - gap_x * (cols - 1)) / cols, (1 - gap_y * (rows - 1)) / rows
    data, layout, notes = [], {}, []
    # one row per township, one column per month (a month without a value is a gap): the first value of a
    # township and month, as a pivot would take it
    ri, ci = {c: i for i, c in enumerate(codes)}, {p: j for j, p in enumerate(periods)}
    grid = np.full((len(codes), len(periods)), np.nan)
    seen = set()
    for code, period, v in zip(m_codes, m_periods, vs):
        if math.isnan(v) or (code, period) in seen:
            continue
        seen.add((code, period))
        if code in ri:
            grid[ri[code], ci[period]] = v
    values = dict(zip(codes, np.round(grid, 2).tolist()))
    for i, code in enumerate(codes):
        r, c = divmod(i, cols)
        ax = "" if i == 0 else str(i + 1)
        x0, y1 = c * (w + gap_x), 1 - r * (h + gap_y)
        ys = [None if math.isnan(y) else y for y in values[code]]     # NaN -> a gap (null in JSON)
        data.append({"type": "bar", "x": periods, "y": ys, "xaxis": f"x{ax}",
                     "yaxis": f"y{ax}", "marker": {"color": COLORWAY[1] if not complaints else COLORWAY[0]},
                     "name": names[code], "showlegend": False,
                     "hovertemplate": f"{names[code]} %{{x}}: %{{y:,.2f}}<extra></extra>"})
        layout[f"xaxis{ax}"] = {"domain": [x0, x0 + w], "anchor": f"y{ax}", "type": "category",
                                "showticklabels": r == rows - 1 or i + cols >= n, "tickangle": -45,
                                "tickfont": {"size": 9}}
        layout[f"yaxis{ax}"] = {"domain": [max(0, y1 - h), y1], "anchor": f"x{ax}", "range": [0, ymax * 1.1 or 1],
                                "tickfont": {"size": 9}}
        notes.append({"text": f"<b>{names[code]}</b>", "x": x0 + w / 2, "y": y1, "xref": "paper",
                      "yref": "paper", "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                      "font": {"size": 12}})
    return figure(data, title, annotations=notes, height=max(300, 210 * rows + 60),
                  margin={"l": 48, "r": 16, "t": 64, "b": 56}, **layout)
