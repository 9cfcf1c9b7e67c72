"""Township comparison (乡镇对比), for county officials: every township of a county side by side, a ranking
table, small multiples by month and Tukey-fence outliers. The state is in the URL: county, year, metric."""
from __future__ import annotations

from enum import Enum

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dropdown import labels as dropdown_labels
from components.townships import METRICS
from components.grid import locale_text
from core.i18n import t
from core.viewer import current_lang

dash.register_page(__name__, path="/townships", title_key="nav.townships", order=12, name="townships")

STATE_KEYS = ("county", "year", "metric")


class Ids(str, Enum):
    STATE = "townships-state"
    COUNTY = "townships-county"
    YEAR = "townships-year"
    METRIC = "townships-metric"
    CRUMB = "townships-breadcrumb"
    FENCES = "townships-fences"
    RANKING = "townships-ranking"
    MULTIPLES = "townships-multiples"
    GRID = "townships-grid"
    CSV = "townships-export-csv"
    XLSX = "townships-export-xlsx"
    DOWNLOAD = "townships-download"


def layout(county: str | None = None, year: str | None = None, metric: str | None = None, region: str | None = None,
           **_query):
    """``region`` (the breadcrumb's and other pages' parameter) stands for ``county`` when that is not given: a
    county or a township opens its county, a city or the province its first county (townships.resolve_county)."""
    county = county or region
    lang = current_lang()
    metric = metric if metric in METRICS else METRICS[0]
    year_v = int(year) if str(year or "").isdigit() else None
    return html.Div([
        dcc.Store(id=Ids.STATE, data={"county": county, "year": year_v, "metric": metric}),
        html.H3(t("townships.heading", lang), className="page-title"),
        dbc.Row([
            dbc.Col([dbc.Label(t("townships.county", lang), className="small mb-0"),
                     dcc.Dropdown(labels=dropdown_labels(lang),
                                  id=Ids.COUNTY, value=county, clearable=False,
                                  options=[{"label": county, "value": county}] if county else [])], md=3),
            dbc.Col([dbc.Label(t("townships.year", lang), className="small mb-0"),
                     dcc.Dropdown(labels=dropdown_labels(lang),
                                  id=Ids.YEAR, value=year_v, placeholder=t("townships.all_years", lang),
                                  clearable=True, searchable=False,
                                  options=[{"label": str(year_v), "value": year_v}] if year_v else [])], md=2),
            dbc.Col([dbc.Label(t("townships.metric", lang), className="small mb-0"),
                     dcc.Dropdown(labels=dropdown_labels(lang),
                                  id=Ids.METRIC, value=metric, clearable=False, searchable=False,
                                  options=[{"label": t(f"townships.metric.{m}", lang), "value": m} for m in METRICS])],
                    md=4),
        ], className="g-2 mb-2"),
        html.Div(id=Ids.CRUMB),
        html.Div(t("townships.click_hint", lang), className="text-muted small mb-1"),
        dbc.Row([
            dbc.Col([dcc.Loading(dcc.Graph(id=Ids.RANKING, config={"displaylogo": False}),
                                 type="dot"),
                     html.Div(id=Ids.FENCES, className="small text-muted")], lg=5),
            dbc.Col(dcc.Loading(dcc.Graph(id=Ids.MULTIPLES, config={"displaylogo": False}),
                                type="dot"), lg=7),
        ], className="mb-3"),
        html.Div([html.H5(t("townships.table", lang), className="d-inline me-3"),
                  dbc.Button("CSV", id=Ids.CSV, size="sm", color="secondary", outline=True, className="me-1"),
                  dbc.Button("XLSX", id=Ids.XLSX, size="sm", color="secondary", outline=True)], className="mb-1"),
        dag.AgGrid(id=Ids.GRID, rowData=[], columnDefs=[], getRowId="params.data.region_code",
                   defaultColDef={"sortable": True, "resizable": True},
                   dashGridOptions={"domLayout": "autoHeight", "suppressColumnVirtualisation": True,
                                    "localeText": locale_text(lang, noRowsToShow=t("townships.no_data", lang))}),
        dcc.Download(id=Ids.DOWNLOAD),
    ])
