"""Pure builders for the village page (no queries): column specs, KPI cards, figures."""
from __future__ import annotations

from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.drill_export import MONEY_FMT, map_fmt, md_link
from components.figures import empty_figure, figure
from components.format import count, money, pct
from components.kpi import kpi_card
from core.i18n import t
from data_access.base import plain_records

LEDGER_COLUMNS = [
    ("entry_id", "village.col.entry_id", "text"),
    ("entry_date", "village.col.entry_date", "date"),
    ("booked_date", "village.col.booked_date", "date"),
    ("direction", "village.col.direction", "map"),
    ("category", "village.col.category", "text"),
    ("amount", "village.col.amount", "money"),
    ("counterparty_name", "village.col.counterparty_name", "text"),
    ("counterparty_id", "village.col.counterparty_id", "text"),
    ("voucher_no", "village.col.voucher_no", "text"),
    ("collective_approval", "village.col.collective_approval", "bool"),
    ("project_code", "village.col.project_code", "text"),
]
INVOICE_COLUMNS = [
    ("invoice_id", "village.col.invoice_id", "text"),
    ("invoice_code", "village.col.invoice_code", "text"),
    ("invoice_no", "village.col.invoice_no", "text"),
    ("issuer_name", "village.col.issuer_name", "text"),
    ("amount", "village.col.amount", "money"),
    ("issue_date", "village.col.issue_date", "date"),
]
PROJECT_COLUMNS = [
    ("link", "village.col.project_name", "link", {"minWidth": 200}),
    ("project_code", "project.col.code", "text"),
    ("fund_name", "project.fund", "text"),
    ("contractor_name", "village.col.contractor", "text"),
    ("contract_amount", "village.col.contract_amount", "money"),
    ("ledger_paid", "village.col.ledger_paid", "money"),
    ("acceptance_date", "village.col.acceptance_date", "date"),
]
HOUSEHOLD_COLUMNS = [
    ("household_no", "village.col.household_no", "text", {"minWidth": 170}),
    ("link", "village.col.name", "link"),
    ("id_number", "village.col.id_number", "text", {"minWidth": 170}),
    ("relation_to_head", "village.col.relation", "text"),
    ("poverty_registered", "village.col.poverty_registered", "bool"),
    ("registered_here", "village.col.registered", "bool"),
    ("n_payments", "village.col.n_payments", "number"),
    ("paid", "village.col.paid", "money"),
    ("funds", "village.col.funds", "text"),
    ("last_paid", "village.col.last_paid", "date"),
]


def direction_labels(lang: str) -> dict:
    return {"income": t("village.income", lang), "expense": t("village.expense", lang)}


def ledger_column_defs(lang: str, filterable: dict) -> list[dict]:
    """Column definitions of the infinite ledger grid; filters only where data_access honours them."""
    from components.drill_export import column_defs
    defs = column_defs(LEDGER_COLUMNS, lang)
    kinds = {"text": "agTextColumnFilter", "number": "agNumberColumnFilter", "date": "agDateColumnFilter"}
    opts = {"text": {"filterOptions": ["contains", "equals", "startsWith"], "maxNumConditions": 1},
            "number": {"filterOptions": ["equals", "greaterThan", "lessThan", "inRange"], "maxNumConditions": 1},
            "date": {"filterOptions": ["equals", "greaterThan", "lessThan", "inRange"], "maxNumConditions": 1}}
    for d in defs:
        kind, sortable = filterable.get(d["field"], (None, False))
        d["sortable"] = bool(sortable)
        if kind in kinds:
            d["filter"] = kinds[kind]
            d["filterParams"] = opts[kind]
        else:
            d["filter"] = False
        if d["field"] == "direction":
            d["valueFormatter"] = map_fmt(direction_labels(lang))
        if d["field"] == "amount":
            d["valueFormatter"] = MONEY_FMT
        if d["field"] in ("counterparty_name",):
            d["minWidth"] = 180
    return defs


def kpis(s: dict | None, lang: str):
    if not s:
        return []
    cards = [
        kpi_card(t("village.kpi.income", lang), money(s["income"], lang)),
        kpi_card(t("village.kpi.expense", lang), money(s["expense"], lang)),
        kpi_card(t("village.kpi.entries", lang), count(s["n_ledger"])),
        kpi_card(t("village.kpi.paid", lang), money(s["paid"], lang), t("kpi.paid_sub", lang, n=count(s["n_payments"]))),
        kpi_card(t("village.kpi.clues", lang), count(s["clues"]),
                 t("village.kpi.clues_sub", lang, amount=money(s["at_risk"], lang))),
    ]
    return [dbc.Col(c, xs=12, sm=6, lg=True) for c in cards]


def category_figure(df: pd.DataFrame, lang: str) -> dict:
    if df.empty:
        return empty_figure(t("drill.no_data", lang))
    labels = direction_labels(lang)
    data = []
    for direction, color in (("income", "#27ae60"), ("expense", "#c0392b")):
        part = df[df["direction"] == direction].sort_values("amount")
        if part.empty:
            continue
        data.append({"type": "bar", "orientation": "h", "name": labels[direction], "y": part["category"].tolist(),
                     "x": part["amount"].tolist(), "customdata": part["n"].tolist(), "marker": {"color": color},
                     "hovertemplate": "%{y}: ¥%{x:,.2f} (%{customdata})<extra>%{fullData.name}</extra>"})
    return figure(data, t("village.categories", lang), barmode="group", margin={"l": 110, "r": 16, "t": 40, "b": 40},
                  xaxis={"title": {"text": t("axis.amount_yuan", lang)}}, yaxis={"automargin": True, "type": "category"})


def timeline_figure(df: pd.DataFrame, lang: str) -> dict:
    if df.empty:
        return empty_figure(t("drill.no_data", lang))
    x = df["month"].tolist()
    data = [
        {"type": "bar", "name": t("village.income", lang), "x": x, "y": df["income"].tolist(), "marker": {"color": "#27ae60"},
         "hovertemplate": "%{x}: ¥%{y:,.2f}<extra>%{fullData.name}</extra>"},
        {"type": "bar", "name": t("village.expense", lang), "x": x, "y": df["expense"].tolist(), "marker": {"color": "#c0392b"},
         "hovertemplate": "%{x}: ¥%{y:,.2f}<extra>%{fullData.name}</extra>"},
        {"type": "scatter", "mode": "lines+markers", "name": t("village.paid_households", lang), "x": x,
         "y": df["paid"].tolist(), "line": {"color": "#2e6da4"},
         "hovertemplate": "%{x}: ¥%{y:,.2f}<extra>%{fullData.name}</extra>"},
    ]
    return figure(data, t("village.timeline", lang), barmode="group",
                  xaxis={"type": "category", "title": {"text": t("axis.month", lang)}},
                  yaxis={"title": {"text": t("axis.amount_yuan", lang)}})


def payees_figure(df: pd.DataFrame, lang: str) -> dict:
    if df.empty:
        return empty_figure(t("drill.no_data", lang))
    d = df.iloc[::-1]
    return figure([{"type": "bar", "orientation": "h", "y": d["counterparty_name"].tolist(), "x": d["amount"].tolist(),
                    "customdata": d["n"].tolist(), "marker": {"color": "#2e6da4"},
                    "hovertemplate": "%{y}: ¥%{x:,.2f} (%{customdata})<extra></extra>"}],
                  t("village.payees", lang), margin={"l": 150, "r": 16, "t": 40, "b": 40},
                  xaxis={"title": {"text": t("axis.amount_yuan", lang)}}, yaxis={"automargin": True, "type": "category"})


def benford_figure(b: dict | None, lang: str) -> dict:
    if not b or not b["n"]:
        return empty_figure(t("drill.no_data", lang))
    if not b["enough"]:
        return empty_figure(t("village.benford_few", lang, n=b["n"], min=b["min_count"]))
    digits = [str(d) for d in range(1, 10)]
    verdict = t("village.benford_conform" if b["conform"] else "village.benford_nonconform", lang)
    sub = t("village.benford_mad", lang, mad=f"{b['mad']:.4f}", limit=f"{b['limit']:.3f}", verdict=verdict)
    return figure([
        {"type": "bar", "name": t("village.benford_observed", lang), "x": digits, "y": [round(v, 4) for v in b["observed"]],
         "customdata": b["counts"], "marker": {"color": "#c0392b" if not b["conform"] else "#2e6da4"},
         "hovertemplate": "%{x}: %{y:.1%} (%{customdata})<extra>%{fullData.name}</extra>"},
        {"type": "scatter", "mode": "lines+markers", "name": t("village.benford_expected", lang), "x": digits,
         "y": [round(v, 4) for v in b["expected"]], "line": {"color": "#2b2b2b", "dash": "dot"},
         "hovertemplate": "%{x}: %{y:.1%}<extra>%{fullData.name}</extra>"},
    ], f"{t('village.benford', lang)}<br><sub>{sub}</sub>", margin={"l": 56, "r": 16, "t": 64, "b": 48},
        xaxis={"type": "category", "title": {"text": t("village.axis.digit", lang)}},
        yaxis={"tickformat": ".0%", "title": {"text": t("village.axis.share", lang)}})


def round_card(b: dict | None, lang: str):
    if not b or not b["n_expenses"]:
        return html.Div(t("drill.no_data", lang), className="text-muted")
    return dbc.Card(dbc.CardBody([
        html.Div(t("village.round", lang), className="kpi-label"),
        html.Div(pct(b["round_share"]), className="kpi-value", id="village-round-share"),
        html.Div(t("village.round_value", lang, n=count(b["n_round"]), total=count(b["n_expenses"]),
                   unit=f"{b['unit']:,.0f}", share=pct(b["round_share"])), className="kpi-sub"),
    ]), className="kpi-card h-100")


def invoices_title(entry: dict | None, lang: str) -> str:
    if not entry:
        return t("village.invoices_pick", lang)
    return t("village.invoices", lang, entry=entry["entry_id"])


def invoices_summary(data: dict | None, lang: str) -> str:
    if not data:
        return ""
    inv = data["invoices"]
    if inv.empty:
        return t("village.invoices_none", lang)
    return t("village.invoices_total", lang, inv=money(float(inv["amount"].sum()), lang),
             amount=money(data["entry"]["amount"], lang))


def project_rows(df: pd.DataFrame) -> list[dict]:
    """The grid's rows: every column, missing values as None, and the project's link. (Over the records: a
    copy, astype(object) and where cost ~1.5 ms for a village's few projects.)"""
    if df.empty:
        return []
    out = plain_records(df, missing_as_none=True)
    for r, n, c in zip(out, df["name"].tolist(), df["project_code"].tolist()):
        r["link"] = md_link(n, f"/project?{urlencode({'project': c})}")
    return out


def household_rows(df: pd.DataFrame) -> list[dict]:
    if df.empty:
        return []
    out = plain_records(df, [c for c in df.columns if c != "key"], missing_as_none=True)
    for r, n, k in zip(out, df["name"].tolist(), df["key"].tolist()):
        r["link"] = md_link(n, f"/household?{urlencode({'person': k})}") if k else (n or "")
    return out


def village_options(rows: list[dict]) -> list[dict]:
    return [{"label": f"{r['name']}（{r['township']}）" if r.get("township") else r["name"], "value": r["code"]}
            for r in rows]
