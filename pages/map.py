"""The anomaly map (异常地图): Hunan's counties coloured by a chosen metric; click a county for its
townships (approximate cells), click a township for its villages and the township comparison."""
from __future__ import annotations

from enum import Enum

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dropdown import labels as dropdown_labels
from components.map import METRIC_OPTIONS
from core.i18n import t
from core.viewer import current_lang

dash.register_page(__name__, path="/map", title_key="nav.map", order=20, name="map")


class Ids(str, Enum):
    STATE = "map-state"
    SEL = "map-selection"
    URL = "map-url"
    METRIC = "map-metric"
    YEAR = "map-year"
    COUNTIES = "map-counties"
    TOWNSHIPS = "map-townships"
    PANEL = "map-panel"
    GRADE = "map-grade"
    CRUMB = "map-crumb"


GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False,
                "topojsonURL": "/assets/topojson/", "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def layout(metric: str | None = None, county: str | None = None, township: str | None = None,
           year: str | None = None, **_query):
    lang = current_lang()
    metric = metric if metric in METRIC_OPTIONS else METRIC_OPTIONS[0]
    y = int(year) if (year or "").isdigit() else None
    return html.Div([
        dcc.Store(id=Ids.STATE, data={"metric": metric, "county": county, "township": township, "year": y}),
        dcc.Store(id=Ids.SEL, data={"county": county, "township": township}),
        dcc.Location(id=Ids.URL, refresh=False),
        dbc.Row([
            dbc.Col(html.H3(t("map.heading", lang), className="page-title"), md=4),
            dbc.Col(dbc.RadioItems(id=Ids.METRIC, inline=True, value=metric,
                                   options=[{"label": t(f"map.metric.{m}", lang), "value": m} for m in METRIC_OPTIONS]),
                    md=6),
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                 id=Ids.YEAR, placeholder=t("map.all_years", lang), clearable=True, searchable=False,
                                 value=y), md=2),
        ], className="align-items-center mb-2"),
        html.Div(id=Ids.CRUMB, className="small text-muted mb-1"),
        dbc.Row([
            dbc.Col([
                dcc.Loading(dcc.Graph(id=Ids.COUNTIES, config=GRAPH_CONFIG, style={"height": "580px"}), type="dot"),
                html.Div(t("map.click_hint", lang), className="text-muted small"),
                html.Div(t("geo.zone_marker", lang), className="text-muted small"),
                html.Div(t("geo.source", lang), className="text-muted small"),
            ], lg=7),
            dbc.Col([
                dcc.Loading(dcc.Graph(id=Ids.TOWNSHIPS, config=GRAPH_CONFIG, style={"height": "470px"}), type="dot"),
                html.Div(t("geo.township_cells", lang), className="text-muted small mb-2 approximate-note"),
                html.Div(id=Ids.PANEL),
                html.Div(id=Ids.GRADE, className="mt-3"),
            ], lg=5),
        ]),
    ])
