"""Complaints and reports (投诉举报): the funnel received -> accepted -> closed -> substantiated, breakdowns,
the sub-region comparison with drill-down, timeliness against the service rule with the overdue lists
(R22/R23), repeat complaints, corroboration with clues, and the complaint list.

State in the URL: ``?region=<code>&from=YYYY-MM&to=YYYY-MM`` (months of receipt)."""
from __future__ import annotations

import re
from enum import Enum

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.complaints import columns
from components.dropdown import labels as dropdown_labels
from components.grid import locale_text
from core.i18n import t
from core.viewer import current_lang, current_scope

dash.register_page(__name__, path="/complaints", title_key="nav.complaints", order=6, name="complaints")

EXPORT = "complaints-export"         # pattern-matching id type of the export buttons
SUBJECT_REMOVE = "complaints-subject-remove"   # pattern-matching id type of a subject's remove button
TABLES = ("compare", "r22", "r23", "repeats", "corroboration", "list")
TABS = ("summary", "compare", "timeliness", "repeats", "list")     # the page's sections, ?tab=... in the URL


class Ids(str, Enum):
    STATE = "complaints-state"
    FROM = "complaints-from"
    TO = "complaints-to"
    CRUMB = "complaints-breadcrumb"
    ASOF = "complaints-asof"
    KPIS = "complaints-kpis"
    FUNNEL = "complaints-funnel"
    CHANNEL = "complaints-channel"
    CATEGORY = "complaints-category"
    MONTH = "complaints-month"
    COMPARE = "complaints-compare"
    COMPARE_TITLE = "complaints-compare-title"
    COMPARE_GRID = "complaints-compare-grid"
    TIME_KPIS = "complaints-time-kpis"
    ACCEPT_DAYS = "complaints-accept-days"
    CLOSE_DAYS = "complaints-close-days"
    R22_GRID = "complaints-r22-grid"
    R23_GRID = "complaints-r23-grid"
    REPEAT_KPIS = "complaints-repeat-kpis"
    REPEAT_GRID = "complaints-repeat-grid"
    CORR_GRID = "complaints-corroboration-grid"
    LIST_GRID = "complaints-list-grid"
    LIST_COUNT = "complaints-list-count"
    LIST_QUERY = "complaints-list-query"
    DETAIL = "complaints-detail"
    DOWNLOAD = "complaints-download"
    DETAIL_ID = "complaints-detail-id"
    SUBJECTS = "complaints-subjects"
    SUBJECT_LIST = "complaints-subject-list"
    SUBJECT_INPUT = "complaints-subject-input"
    SUBJECT_ADD = "complaints-subject-add"
    SUBJECT_MSG = "complaints-subject-msg"
    TABS = "complaints-tabs"


def _graph(id_: str, height: int = 340):
    return dcc.Loading(dcc.Graph(id=id_, config={"displaylogo": False, "responsive": True},
                                 style={"height": f"{height}px"}), type="dot")


def _exports(table: str, lang: str):
    return dbc.ButtonGroup([
        dbc.Button(t("complaints.export_csv", lang), id={"type": EXPORT, "table": table, "fmt": "csv"},
                   size="sm", color="secondary", outline=True),
        dbc.Button(t("complaints.export_xlsx", lang), id={"type": EXPORT, "table": table, "fmt": "xlsx"},
                   size="sm", color="secondary", outline=True),
    ], className="ms-auto")


def _heading(text_or_id, table: str | None, lang: str, is_id: bool = False):
    title = html.H5(id=text_or_id, className="mb-0") if is_id else html.H5(text_or_id, className="mb-0")
    return html.Div([title, _exports(table, lang) if table else None],
                    className="d-flex align-items-center gap-2 mt-3 mb-2")


def _grid(id_: str, defs: list[dict], height: str = "320px", row_id: str | None = None, **kw):
    lang = current_lang()
    opts = {"animateRows": False, "enableCellTextSelection": True, "ensureDomOrder": True,
            "localeText": locale_text(lang, noRowsToShow=t("complaints.no_rows", lang),
                                           loadingOoo=t("complaints.loading", lang))}
    opts.update(kw.pop("dashGridOptions", {}))
    if kw.get("rowModelType") != "infinite":
        kw["rowData"] = []
    return dag.AgGrid(id=id_, columnDefs=defs, className="ag-theme-alpine",
                      defaultColDef={"sortable": True, "resizable": True, "filter": True, "minWidth": 90},
                      dashGridOptions=opts, style={"height": height},
                      **({"getRowId": f"params.data.{row_id}"} if row_id else {}), **kw)


def _month(v) -> str | None:
    return v if isinstance(v, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v) else None


def layout(region: str | None = None, **query):
    lang = current_lang()
    confidential = current_scope().complaints
    p_from, p_to = _month(query.get("from")), _month(query.get("to"))
    tab = query.get("tab") if query.get("tab") in TABS else TABS[0]
    list_opts = {"cacheBlockSize": 100, "maxBlocksInCache": 20,
                 "infiniteInitialRowCount": 1, "rowSelection": {"mode": "singleRow", "checkboxes": False}}
    return html.Div([
        dcc.Store(id=Ids.STATE, data={"region": region, "from": p_from, "to": p_to}),
        dcc.Store(id=Ids.LIST_QUERY, data={}),
        dcc.Download(id=Ids.DOWNLOAD),
        dbc.Row([
            dbc.Col(html.H3(t("complaints.heading", lang), className="page-title"), md=6),
            # the options arrive with the data; the URL's month is an option from the start, or the
            # dropdown would drop a value it does not know (and the URL with it)
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                 id=Ids.FROM, placeholder=t("complaints.period_from", lang), clearable=True,
                                 searchable=False, value=p_from, options=[p_from] if p_from else []),
                    md=2, className="ms-auto"),
            dbc.Col(dcc.Dropdown(labels=dropdown_labels(lang),
                                 id=Ids.TO, placeholder=t("complaints.period_to", lang), clearable=True,
                                 searchable=False, value=p_to, options=[p_to] if p_to else []), md=2),
        ], className="align-items-center mb-2"),
        html.Div(id=Ids.CRUMB),
        html.Div([html.Span(t("complaints.rule_note", lang)), " ", html.Span(id=Ids.ASOF)],
                 className="text-muted small mb-2"),
        dbc.Row(id=Ids.KPIS, className="g-3 mb-3"),
        # one section at a time: only the open tab's graphs and grids are drawn (the browser's main thread
        # is what a province-wide page waits for); every section's data still arrives with the page
        dcc.Tabs(id=Ids.TABS, value=tab, className="mb-2 page-tabs", parent_className="page-tabs", children=[
            dcc.Tab(label=t("complaints.tab.summary", lang), value="summary", children=[
                dbc.Row([dbc.Col(_graph(Ids.FUNNEL), lg=4), dbc.Col(_graph(Ids.CHANNEL), lg=4),
                         dbc.Col(_graph(Ids.CATEGORY), lg=4)], className="mt-2 mb-3"),
                dbc.Row([dbc.Col(_graph(Ids.MONTH, 300), lg=12)], className="mb-3"),
            ]),
            # comparison and drill-down
            dcc.Tab(label=t("complaints.tab.compare", lang), value="compare", children=[
                _heading(Ids.COMPARE_TITLE, "compare", lang, is_id=True),
                html.Div(t("complaints.click_hint", lang), className="text-muted small mb-1"),
                dbc.Row([dbc.Col(_graph(Ids.COMPARE, 420), lg=5),
                         dbc.Col(_grid(Ids.COMPARE_GRID, columns("compare", lang), "420px", row_id="region_code"), lg=7)],
                        className="mb-3"),
            ]),
            dcc.Tab(label=t("complaints.timeliness", lang), value="timeliness", children=[
                dbc.Row(id=Ids.TIME_KPIS, className="g-3 mt-1 mb-3"),
                dbc.Row([dbc.Col(_graph(Ids.ACCEPT_DAYS, 300), lg=6), dbc.Col(_graph(Ids.CLOSE_DAYS, 300), lg=6)],
                        className="mb-2"),
                dbc.Row([
                    dbc.Col([_heading(t("complaints.r22", lang), "r22", lang),
                             _grid(Ids.R22_GRID, columns("r22", lang), "300px", row_id="complaint_id")], lg=6),
                    dbc.Col([_heading(t("complaints.r23", lang), "r23", lang),
                             _grid(Ids.R23_GRID, columns("r23", lang), "300px", row_id="complaint_id")], lg=6),
                ], className="mb-3"),
            ]),
            dcc.Tab(label=t("complaints.tab.repeats", lang), value="repeats", children=[
                _heading(t("complaints.repeats", lang), "repeats", lang),
                dbc.Row(id=Ids.REPEAT_KPIS, className="g-3 mb-2"),
                _grid(Ids.REPEAT_GRID, columns("repeats", lang), "240px"),
                _heading(t("complaints.corroboration", lang), "corroboration", lang),
                html.Div(t("complaints.corroboration_note", lang), className="text-muted small mb-1"),
                _grid(Ids.CORR_GRID, columns("corroboration", lang), "260px"),
            ]),
            dcc.Tab(label=t("complaints.tab.list", lang), value="list", children=[
                _heading(t("complaints.list", lang), "list", lang),
                html.Div([html.Span(id=Ids.LIST_COUNT), " ",
                          html.Span(t("complaints.confidential_note", lang)) if not confidential else None],
                         className="text-muted small mb-1"),
                _grid(Ids.LIST_GRID, columns("list", lang, confidential), "460px", row_id="complaint_id",
                      dashGridOptions=list_opts, rowModelType="infinite"),
            ]),
        ]),
        html.Div(id=Ids.DETAIL, className="mt-2"),
        dcc.Store(id=Ids.DETAIL_ID, data=None),
        _subjects(lang) if confidential else None,
    ])


def _subjects(lang: str):
    """For the complaint officer: who the opened complaint is about (shown once a complaint is open)."""
    return dbc.Card(dbc.CardBody([
        html.H6(t("complaints.subject.heading", lang)),
        html.Div(t("complaints.subject.note", lang), className="text-muted small mb-2"),
        html.Div(id=Ids.SUBJECT_LIST),
        dbc.InputGroup([dbc.Input(id=Ids.SUBJECT_INPUT, maxLength=18, autoComplete="off", type="text",
                                  placeholder=t("complaints.subject.placeholder", lang)),
                        dbc.Button(t("complaints.subject.add", lang), id=Ids.SUBJECT_ADD, color="primary")],
                       size="sm", style={"maxWidth": "420px"}),
        html.Div(id=Ids.SUBJECT_MSG, className="small mt-1"),
    ]), id=Ids.SUBJECTS, className="mb-3", style={"display": "none"})
