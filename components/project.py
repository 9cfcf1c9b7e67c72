"""Pure builders for the project page (no queries)."""
from __future__ import annotations

from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd

from components.drill_export import md_link
from components.figures import empty_figure, figure
from components.format import money, pct
from components.kpi import kpi_card
from core.i18n import t
from data_access.base import plain_records

SEARCH_COLUMNS = [
    ("link", "village.col.project_name", "link", {"minWidth": 220}),
    ("project_code", "project.col.code", "text"),
    ("region", "project.col.region", "text"),
    ("fund_name", "project.fund", "text"),
    ("contractor_name", "project.contractor", "text"),
    ("contract_amount", "village.col.contract_amount", "money"),
]
PAYMENT_COLUMNS = [
    ("date", "project.col.date", "date"),
    ("source", "project.col.source", "text"),
    ("record_id", "project.col.record", "text"),
    ("counterparty", "project.col.counterparty", "text"),
    ("amount", "project.col.amount", "money"),
    ("cumulative", "project.col.cumulative", "money"),
    ("after_acceptance", "project.col.after_acceptance", "bool"),
]
BENEFICIARY_COLUMNS = [
    ("link", "project.col.name", "link"),
    ("id_number", "project.col.id_number", "text"),
    ("village", "project.col.village", "text"),
    ("n_payments", "project.col.n_payments", "number"),
    ("amount", "project.col.amount", "money"),
]
CLUE_COLUMNS = [
    ("rule", "project.col.rule", "text"),
    ("rule_name", "project.col.rule_name", "text", {"minWidth": 180}),
    ("record_id", "project.col.record_id", "text"),
    ("amount_at_risk", "project.col.amount_at_risk", "money"),
    ("status", "project.col.status", "text"),
]
COMPLAINT_COLUMNS = [
    ("complaint_id", "project.col.complaint_id", "text"),
    ("received_date", "project.col.received_date", "date"),
    ("closed_date", "project.col.closed_date", "date"),
    ("channel", "project.col.channel", "text"),
    ("substantiated", "project.col.substantiated", "bool"),
    ("amount_involved", "project.col.amount", "money"),
    ("summary", "project.col.summary", "text", {"minWidth": 260}),
]


def search_rows(df: pd.DataFrame) -> list[dict]:
    if df.empty:
        return []
    out = plain_records(df, missing_as_none=True)
    for r, n, c in zip(out, df["name"].tolist(), df["project_code"].tolist()):
        r["link"] = md_link(n, f"/project?{urlencode({'project': c})}")
    return out


def payment_rows(df: pd.DataFrame, lang: str) -> list[dict]:
    if df.empty:
        return []
    out = plain_records(df, missing_as_none=True)
    for r, s in zip(out, df["source"].tolist()):
        r["source"] = t(f"project.col.source.{s}", lang)
    return out


def beneficiary_rows(df: pd.DataFrame) -> list[dict]:
    if df.empty:
        return []
    out = plain_records(df, [c for c in df.columns if c != "key"], missing_as_none=True)
    for r, n, k in zip(out, df["name"].tolist(), df["key"].tolist()):
        r["link"] = md_link(n, f"/household?{urlencode({'person': k})}")
    return out


def clue_rows(df: pd.DataFrame, lang: str) -> list[dict]:
    if df.empty:
        return []
    from core.i18n import has
    out = plain_records(df, missing_as_none=True)
    for row, r in zip(out, df["rule"].tolist()):
        row["rule_name"] = t(f"rule.{r}.name", lang) if has(f"rule.{r}.name") else r
        s = row.get("status")
        if s and has(f"clues.status.{s}"):         # the workflow's state in words, as on the clues page
            row["status"] = t(f"clues.status.{s}", lang)
    return out


def complaint_columns(show_summary: bool) -> list[tuple]:
    return [c for c in COMPLAINT_COLUMNS if show_summary or c[0] != "summary"]


def kpis(p: dict | None, lang: str):
    if not p:
        return []
    unit = p.get("unit") or ""
    progress = (t("project.progress_value", lang, done=f"{p['completed_quantity']:g}", planned=f"{p['planned_quantity']:g}",
                  unit=unit, share=pct(p["progress"]))
                if p.get("progress") is not None else "—")
    fund = t(f"category.{p['category']}", lang) if p.get("category") else ""
    cards = [
        kpi_card(t("project.fund", lang), p.get("fund_name") or p["fund_code"], f"{p['fund_code']} · {fund}", text=True),
        kpi_card(t("project.contractor", lang), p.get("contractor_name") or "—", p.get("contractor_credit_code") or None,
                 text=True),
        kpi_card(t("project.contract", lang), money(p["contract_amount"], lang)),
        kpi_card(t("project.progress", lang), progress, text=True),
        kpi_card(t("project.paid", lang), money(p["paid"], lang),
                 t("project.paid_sub", lang, share=pct(p["paid_share"]), due=money(p["due"], lang))),
        kpi_card(t("project.accepted", lang), p.get("acceptance_date") or t("project.not_accepted", lang),
                 t("project.dates_value", lang, start=p.get("start_date") or "—", end=p.get("end_date") or "—")),
    ]
    return [dbc.Col(c, xs=12, sm=6, lg=2) for c in cards]


def timeline_figure(p: dict | None, pays: pd.DataFrame, lang: str) -> dict:
    if not p or pays.empty:
        return empty_figure(t("drill.no_data", lang))
    x = pays["date"].tolist()
    data = [{"type": "scatter", "mode": "lines+markers", "line": {"shape": "hv", "color": "#2e6da4"},
             "name": t("project.cumulative", lang), "x": x, "y": pays["cumulative"].tolist(),
             "customdata": pays["record_id"].tolist(),
             "hovertemplate": "%{x}: ¥%{y:,.2f} (%{customdata})<extra></extra>"}]
    dates = x + [d for d in (p.get("start_date"), p.get("acceptance_date"), p.get("end_date")) if d]
    lo, hi = min(dates), max(dates)
    for key, val, color, dash in (("project.contract_line", p.get("contract_amount"), "#7f8c8d", "dash"),
                                  ("project.due_line", p.get("due"), "#e67e22", "dot")):
        if val is not None:
            data.append({"type": "scatter", "mode": "lines", "name": t(key, lang), "x": [lo, hi], "y": [val, val],
                         "line": {"color": color, "dash": dash},
                         "hovertemplate": "¥%{y:,.2f}<extra>%{fullData.name}</extra>"})
    shapes, notes = [], []
    if p.get("acceptance_date"):
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": p["acceptance_date"], "x1": p["acceptance_date"],
                       "y0": 0, "y1": 1, "line": {"color": "#c0392b", "width": 2}})
        notes.append({"x": p["acceptance_date"], "y": 1, "xref": "x", "yref": "paper", "showarrow": False,
                      "text": f"{t('project.acceptance_line', lang)} {p['acceptance_date']}", "yanchor": "bottom",
                      "font": {"color": "#c0392b"}})
    return figure(data, t("project.timeline", lang), shapes=shapes, annotations=notes,
                  xaxis={"type": "date", "title": {"text": t("project.col.date", lang)}},
                  yaxis={"title": {"text": t("axis.amount_yuan", lang)}, "rangemode": "tozero"})
