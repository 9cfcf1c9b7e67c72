"""Pure builders for the overview page (no queries)."""
from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import html

from components.figures import empty_figure, figure
from components.format import count, money, pct, pct_digits
from components.kpi import kpi_card
from core.i18n import t
from data_access.base import as_float, plain_records


def kpi_row(k: dict | None, lang: str):
    if not k:
        return [dbc.Col(html.Div(t("overview.no_data", lang), className="text-muted"))]
    c = k.get("complaints") or {}
    cards = [
        kpi_card(t("kpi.funds_disclosed", lang), money(k["funds_disclosed"], lang),
                 t("kpi.funds_disclosed_sub", lang, n=count(k["n_funds"]))),
        kpi_card(t("kpi.allocated", lang), money(k["allocated_in"], lang)),
        kpi_card(t("kpi.paid", lang), money(k["paid_amount"], lang), t("kpi.paid_sub", lang, n=count(k["n_payments"]))),
        kpi_card(t("kpi.households", lang), count(k["households_reached"]),
                 t("kpi.households_sub", lang, n=count(k["households"])) if k.get("households") else None),
        kpi_card(t("kpi.complaints_received", lang), f"{count(c.get('accepted'))} / {count(c.get('received'))}",
                 t("kpi.complaints_amount", lang, amount=money(c.get("amount_involved"), lang))),
        kpi_card(t("kpi.complaints_closed", lang), f"{count(c.get('closed'))} / {count(c.get('substantiated'))}"),
    ]
    return [dbc.Col(card, xs=12, sm=6, lg=2) for card in cards]


def trend_figure(df: pd.DataFrame, lang: str) -> dict:
    if df.empty:
        return empty_figure(t("overview.no_data", lang))
    # grouped over plain lists (pandas' groupby and per-group rounds cost ~1 ms a figure); rounded as
    # pandas rounds (numpy's half-to-even on the scaled value)
    parts: dict = {}
    for cat, period, amount in zip(df["category"].tolist(), df["period"].tolist(), df["amount"].tolist()):
        xs, ys = parts.setdefault(cat, ([], []))
        xs.append(period)
        ys.append(as_float(amount))
    data = []
    for cat in sorted(parts):
        xs, ys = parts[cat]
        data.append({"type": "bar", "name": t(f"category.{cat}", lang), "x": xs,
                     "y": np.round(np.array(ys, dtype=float), 2).tolist(),
                     "hovertemplate": "%{x}<br>%{fullData.name}: ¥%{y:,.0f}<extra></extra>"})
    # no x-axis title: the months speak for themselves, and the title sat inside the legend's rows
    # the months in calendar order: a category axis otherwise lists them as the traces first name them
    # (a category paid quarterly put 01, 04, 07, 10 before the others)
    months = sorted({x for d in data for x in d["x"]})
    return figure(data, t("overview.trend", lang), barmode="stack",
                  xaxis={"type": "category", "categoryorder": "array", "categoryarray": months},
                  yaxis={"title": {"text": t("axis.amount_yuan", lang)}})


def ranking_figure(df: pd.DataFrame, metric: str, title: str, lang: str, ascending: bool = False,
                   n: int = 10, as_pct: bool = False) -> dict:
    # plain Python over the few rows (the page draws three of these from one frame; pandas' dropna, sort
    # and slicing cost ~1.5 ms a figure). A stable sort: ties keep the frame's order (paid, largest first).
    rows = [(float(v), name, code) for v, name, code in zip(df[metric].tolist(), df["name"].tolist(),
                                                             df["region_code"].tolist())
            if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not rows:
        return empty_figure(t("overview.no_data", lang))
    rows = sorted(rows, key=lambda r: r[0], reverse=not ascending)[:n][::-1]
    vals = [r[0] for r in rows]
    # rates as small as a province's anomaly rate (~0.01%) keep two significant digits, not "0.0%"
    text = [pct(v, pct_digits(max(vals))) for v in vals] if as_pct else [f"{v:,.0f}" for v in vals]
    xs = np.round(np.array(vals) * (100 if as_pct else 1), 6).tolist()
    # an all-zero ranking still reads "0.0%" next to each name, on an axis starting at 0
    xaxis = {"ticksuffix": "%" if as_pct else "", "rangemode": "tozero"}
    if max(xs) <= 0:
        xaxis["range"] = [0, 1]
    return figure([{
        "type": "bar", "orientation": "h", "x": xs,
        "y": [r[1] for r in rows], "customdata": [r[2] for r in rows], "text": text,
        "textposition": "outside" if max(xs) <= 0 else "auto", "cliponaxis": False,
        "hovertemplate": "%{y}: %{text}<extra></extra>",
        "marker": {"color": "#c0392b" if (as_pct or ascending) else "#2e6da4"},
    }], title, margin={"l": 120, "r": 16, "t": 40, "b": 30},
        xaxis=xaxis, yaxis={"automargin": True})


def subregion_table(df: pd.DataFrame, lang: str, page_path: str):
    if df.empty:
        return html.Div(t("overview.no_data", lang), className="text-muted")
    head = html.Thead(html.Tr([html.Th(t(f"col.{c}", lang)) for c in
                               ("region", "paid_amount", "n_payments", "households", "households_reached",
                                "paid_per_household", "anomaly_rate", "complaints", "complaints_per_10k")]))
    rows = []
    for r in plain_records(df, ["name", "region_code", "paid_amount", "n_payments", "households", "households_reached",
                          "paid_per_household", "anomaly_rate", "complaints", "complaints_per_10k"]):
        rows.append(_tr([
            _html("A", r["name"], href=f"{page_path}?region={r['region_code']}"),
            f"{r['paid_amount']:,.2f}", count(r["n_payments"]), count(r["households"]), count(r["households_reached"]),
            "—" if pd.isna(r["paid_per_household"]) else f"{r['paid_per_household']:,.0f}",
            pct(r["anomaly_rate"], 2), count(r["complaints"]),
            "—" if pd.isna(r["complaints_per_10k"]) else f"{r['complaints_per_10k']:.2f}",
        ]))
    return dbc.Table([head, html.Tbody(rows)], striped=True, hover=True, size="sm", className="subregion-table")


def _html(tag: str, children, **props) -> dict:
    """An html component as the JSON its Dash class serialises to ({"props", "type", "namespace"}), for
    the table's many cells: building and serialising a Dash object per cell cost ~3 ms a table. Only
    the few props used here (children first, then the rest in the order the class declares them)."""
    return {"props": {"children": children, **props}, "type": tag, "namespace": "dash_html_components"}


def _tr(cells: list) -> dict:
    return _html("Tr", [_html("Td", c) for c in cells])
