"""Fund flow (资金流向): a Sankey from a region down the levels to the households, what is left at every
level, and the gaps beside it. The whole state is in the URL:
region, fund | category, year_from, year_to, and n_<level> (how many nodes of a level are shown)."""
from __future__ import annotations

from enum import Enum

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dropdown import labels as dropdown_labels
from components.grid import locale_text
from core.i18n import has, t
from core.viewer import current_lang

dash.register_page(__name__, path="/flows", title_key="nav.flows", order=10, name="flows")

STATE_KEYS = ("region", "fund", "category", "year_from", "year_to", "n_city", "n_county", "n_township", "n_village")


class Ids(str, Enum):
    STATE = "flows-state"
    FUND = "flows-fund"
    CATEGORY = "flows-category"
    YEAR_FROM = "flows-year-from"
    YEAR_TO = "flows-year-to"
    CRUMB = "flows-breadcrumb"
    KPIS = "flows-kpis"
    SANKEY = "flows-sankey"
    TAIL = "flows-tail"
    GRID = "flows-gaps"
    CSV = "flows-export-csv"
    XLSX = "flows-export-xlsx"
    DOWNLOAD = "flows-download"
    RESET = "flows-reset-expand"


def _int(v):
    return int(v) if str(v or "").isdigit() else None


def layout(region: str | None = None, fund: str | None = None, category: str | None = None,
           year_from: str | None = None, year_to: str | None = None, n_city: str | None = None,
           n_county: str | None = None, n_township: str | None = None, n_village: str | None = None, **_query):
    lang = current_lang()
    state = {"region": region, "fund": fund, "category": category, "year_from": _int(year_from),
             "year_to": _int(year_to), "n_city": _int(n_city), "n_county": _int(n_county),
             "n_township": _int(n_township), "n_village": _int(n_village)}

    def dd(id_, label, value, placeholder, md, text=None):
        # the URL's value is an option from the start (the render callback brings the full, labelled list),
        # so the dropdown never drops it as unknown before the options arrive
        opts = [{"label": text or str(value), "value": value}] if value not in (None, "") else []
        return dbc.Col([dbc.Label(label, className="small mb-0"),
                        dcc.Dropdown(labels=dropdown_labels(lang),
                                     id=id_, value=value, options=opts, placeholder=placeholder, clearable=True)], md=md)

    return html.Div([
        dcc.Store(id=Ids.STATE, data=state),
        html.H3(t("flows.heading", lang), className="page-title"),
        dbc.Row([
            dd(Ids.FUND, t("flows.fund", lang), fund, t("flows.all_funds", lang), 4),
            dd(Ids.CATEGORY, t("flows.category", lang), category, t("flows.all_categories", lang), 3,
               t(f"category.{category}", lang) if category and has(f"category.{category}") else None),
            dd(Ids.YEAR_FROM, t("flows.year_from", lang), state["year_from"], t("flows.any_year", lang), 2),
            dd(Ids.YEAR_TO, t("flows.year_to", lang), state["year_to"], t("flows.any_year", lang), 2),
        ], className="g-2 mb-2"),
        html.Div(id=Ids.CRUMB),
        dbc.Row(id=Ids.KPIS, className="g-3 mb-3"),
        html.Div(t("flows.click_hint", lang), className="text-muted small mb-1"),
        dbc.Row([
            dbc.Col([
                dcc.Loading(dcc.Graph(id=Ids.SANKEY, config={"displaylogo": False, "responsive": False}), type="dot"),
                html.Div([html.Span(id=Ids.TAIL, className="text-muted small me-2"),
                          dbc.Button(t("flows.reset_expand", lang), id=Ids.RESET, size="sm", color="link",
                                     className="p-0")]),
            ], xl=7),
            dbc.Col([
                html.Div([html.H5(t("flows.gaps", lang), className="d-inline me-3"),
                          dbc.Button("CSV", id=Ids.CSV, size="sm", color="secondary", outline=True, className="me-1"),
                          dbc.Button("XLSX", id=Ids.XLSX, size="sm", color="secondary", outline=True)],
                         className="mb-1"),
                html.Div(t("flows.gaps_hint", lang), className="text-muted small mb-1"),
                dag.AgGrid(id=Ids.GRID, rowData=[], columnDefs=[],
                           defaultColDef={"sortable": True, "resizable": True},
                           getRowId="params.data.region_code",
                           dashGridOptions={"pagination": True, "paginationPageSize": 50, "suppressColumnVirtualisation": True,
                                            "localeText": locale_text(lang, noRowsToShow=t("flows.no_gaps", lang))},
                           style={"height": "560px"}),
                dcc.Download(id=Ids.DOWNLOAD),
            ], xl=5),
        ], className="mb-3"),
    ])
