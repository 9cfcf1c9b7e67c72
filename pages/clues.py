"""Clues (问题线索): which rules ran, the funnel and each rule's precision, the list (AG Grid, infinite
row model, sorted and filtered in SQL), groups per person and project, the detail of one clue (flagged
record and evidence side by side) and the workflow (交办 in batches, verification, decision, outcome)."""
from __future__ import annotations

from enum import Enum

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.clues import grid_columns
from components.dropdown import labels as dropdown_labels
from components.grid import locale_text
from core.i18n import t
from core.viewer import current_lang
from data_access.clues import DISMISS_REASONS, OUTCOMES, STATUSES, TABLES

dash.register_page(__name__, path="/clues", title_key="nav.clues", order=25, name="clues")


class Ids(str, Enum):
    STATE = "clues-state"
    RUNS = "clues-runs"
    FUNNEL = "clues-funnel"
    PRECISION = "clues-precision"
    RULE = "clues-f-rule"
    STATUS = "clues-f-status"
    TABLE = "clues-f-table"
    FUND = "clues-f-fund"
    MIN = "clues-f-min"
    MAX = "clues-f-max"
    APPLY = "clues-apply"
    GRID = "clues-grid"
    ACTION = "clues-action"
    REASON = "clues-reason"
    OUTCOME = "clues-outcome"
    RECOVERED = "clues-recovered"
    RETURNED = "clues-returned"
    NOTE = "clues-note"
    DO = "clues-do"
    MSG = "clues-msg"
    CSV = "clues-csv"
    XLSX = "clues-xlsx"
    DOWNLOAD = "clues-download"
    DETAIL = "clues-detail"
    GROUPS = "clues-groups"
    CRUMB = "clues-crumb"
    TABS = "clues-tabs"


TABS = ("list", "precision", "groups")     # the page's sections below the funnel, ?tab=... in the URL

FILTER_KEYS = ("region", "rule", "status", "table", "fund", "min_amount", "max_amount", "clue", "done")


def _list(v) -> list:
    return [s for s in str(v or "").split(",") if s]


def _seed(value) -> list[dict]:
    """The URL's own values as starting options: a dropdown drops a value it has no option for, and
    the full options (with names) arrive from a callback only after the first render."""
    return [{"label": v, "value": v} for v in _list(value)]


def layout(region: str | None = None, rule: str | None = None, status: str | None = None, table: str | None = None,
           fund: str | None = None, min_amount: str | None = None, max_amount: str | None = None,
           clue: str | None = None, done: str | None = None, tab: str | None = None, **_query):
    lang = current_lang()
    state = {"region": region, "rule": rule, "status": status, "table": table, "fund": fund,
             "min_amount": min_amount, "max_amount": max_amount, "clue": clue}
    field = {"className": "mb-2"}
    return html.Div([
        dcc.Store(id=Ids.STATE, data=state),
        dbc.Row([dbc.Col(html.H3(t("clues.heading", lang), className="page-title"), md=6),
                 dbc.Col(html.Div(id=Ids.CRUMB, className="text-muted small text-end"), md=6)],
                className="align-items-center mb-2"),
        dbc.Alert(t("clues.done", lang, what=done), color="success", className="py-2") if done else None,
        html.Div(id=Ids.RUNS),
        dbc.Row([dbc.Col(html.Div(id=Ids.FUNNEL), lg=5)], className="mb-3"),
        # the clue list first; the per-rule precision and the groupings one click away (drawn only when
        # opened: the precision table and the groupings are ~500 elements at the province)
        dcc.Tabs(id=Ids.TABS, value=tab if tab in TABS else TABS[0], className="mb-2 page-tabs",
                 parent_className="page-tabs", children=[
            dcc.Tab(label=t("clues.tab.list", lang), value="list", children=html.Div([
                dbc.Row([
                    dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                         id=Ids.RULE, multi=True, value=_list(rule), placeholder=t("clues.f.rule", lang),
                                         options=_seed(rule)), md=3, **field),
                    dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                         id=Ids.STATUS, multi=True, value=_list(status), placeholder=t("clues.f.status", lang),
                                         options=[{"label": t(f"clues.status.{s}", lang), "value": s} for s in STATUSES]), md=2, **field),
                    dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                         id=Ids.TABLE, multi=True, value=_list(table), placeholder=t("clues.f.table", lang),
                                         options=[{"label": t(f"clues.table.{s}", lang), "value": s} for s in TABLES]), md=2, **field),
                    dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                         id=Ids.FUND, multi=True, value=_list(fund), placeholder=t("clues.f.fund", lang),
                                         options=_seed(fund)), md=2, **field),
                    dbc.Col(dbc.Input(id=Ids.MIN, type="number", min=0, value=min_amount, placeholder=t("clues.f.min", lang)), md=1, **field),
                    dbc.Col(dbc.Input(id=Ids.MAX, type="number", min=0, value=max_amount, placeholder=t("clues.f.max", lang)), md=1, **field),
                    dbc.Col(dbc.Button(t("clues.apply", lang), id=Ids.APPLY, color="primary", size="sm"), md=1, **field),
                ], className="g-2 align-items-center"),
                dag.AgGrid(id=Ids.GRID, rowModelType="infinite", columnDefs=grid_columns(lang),
                           defaultColDef={"resizable": True, "sortable": True, "minWidth": 90},
                           dashGridOptions={"rowSelection": {"mode": "multiRow", "headerCheckbox": False},
                                            "cacheBlockSize": 100, "maxBlocksInCache": 20, "pagination": False,
                                            "suppressCellFocus": True, "localeText": locale_text(lang)},
                           style={"height": "460px"}, className="ag-theme-alpine mb-2"),
                html.Div(t("clues.grid_hint", lang), className="text-muted small mb-2"),
                dbc.Row([
                    dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                         id=Ids.ACTION, placeholder=t("clues.w.action", lang),
                                         options=[{"label": t(f"clues.action.{a}", lang), "value": a}
                                                  for a in ("hand_over", "verify", "confirm", "dismiss", "outcome", "reopen")]), md=2),
                    dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                         id=Ids.REASON, placeholder=t("clues.w.reason", lang),
                                         options=[{"label": t(f"clues.reason.{r}", lang), "value": r} for r in DISMISS_REASONS]), md=2),
                    dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                         id=Ids.OUTCOME, placeholder=t("clues.w.outcome", lang),
                                         options=[{"label": t(f"clues.outcome.{o}", lang), "value": o} for o in OUTCOMES]), md=2),
                    dbc.Col(dbc.Input(id=Ids.RECOVERED, type="number", min=0, placeholder=t("clues.w.recovered", lang)), md=1),
                    dbc.Col(dbc.Input(id=Ids.RETURNED, type="number", min=0, placeholder=t("clues.w.returned", lang)), md=1),
                    dbc.Col(dbc.Input(id=Ids.NOTE, type="text", maxLength=500, placeholder=t("clues.w.note", lang)), md=2),
                    dbc.Col(dbc.Button(t("clues.w.do", lang), id=Ids.DO, color="danger", size="sm"), md=1),
                    dbc.Col([dbc.Button("CSV", id=Ids.CSV, size="sm", color="secondary", className="me-1"),
                             dbc.Button("XLSX", id=Ids.XLSX, size="sm", color="secondary")], md=1),
                ], className="g-2 align-items-center mb-2"),
                html.Div(id=Ids.MSG),
                dcc.Download(id=Ids.DOWNLOAD),
                html.Div(id=Ids.DETAIL, className="mb-3"),
            ], className="pt-2")),
            dcc.Tab(label=t("clues.tab.precision", lang), value="precision",
                    children=html.Div(id=Ids.PRECISION, className="pt-2")),
            dcc.Tab(label=t("clues.tab.groups", lang), value="groups", children=html.Div(id=Ids.GROUPS, className="pt-2")),
        ]),
    ])
