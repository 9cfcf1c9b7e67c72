"""Overview for commission leaders (总览): KPI cards, monthly trend, top and bottom sub-regions."""
from __future__ import annotations

from enum import Enum

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from components.dropdown import labels as dropdown_labels

from core.i18n import t
from core.viewer import current_lang

dash.register_page(__name__, path="/", title_key="nav.overview", order=0, name="overview")


class Ids(str, Enum):
    STATE = "overview-state"
    YEAR = "overview-year"
    CRUMB = "overview-breadcrumb"
    KPIS = "overview-kpis"
    TREND = "overview-trend"
    TOP = "overview-top"
    BOTTOM = "overview-bottom"
    ANOMALY = "overview-anomaly"
    TABLE = "overview-table"


def _graph(id_: str, height: int = 360):
    return dcc.Loading(dcc.Graph(id=id_, config={"displaylogo": False, "responsive": True},
                                 style={"height": f"{height}px"}), type="dot")


def layout(region: str | None = None, year: str | None = None, **_query):
    lang = current_lang()
    return html.Div([
        dcc.Store(id=Ids.STATE, data={"region": region, "year": year}),
        dbc.Row([
            dbc.Col(html.H3(t("overview.heading", lang), className="page-title"), md=8),
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                 id=Ids.YEAR, placeholder=t("overview.all_years", lang), clearable=True,
                                 searchable=False, value=int(year) if (year or "").isdigit() else None),
                    md=2, className="ms-auto"),
        ], className="align-items-center mb-2"),
        html.Div(id=Ids.CRUMB),
        dbc.Row(id=Ids.KPIS, className="g-3 mb-3"),
        dbc.Row([dbc.Col(_graph(Ids.TREND), lg=12)], className="mb-3"),
        html.Div(t("overview.click_hint", lang), className="text-muted small mb-1"),
        dbc.Row([dbc.Col(_graph(Ids.TOP), lg=4), dbc.Col(_graph(Ids.BOTTOM), lg=4),
                 dbc.Col(_graph(Ids.ANOMALY), lg=4)], className="mb-3"),
        html.H5(t("overview.table", lang)),
        html.Div(id=Ids.TABLE, className="table-responsive"),
    ])
