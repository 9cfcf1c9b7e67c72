"""Fund-flow callbacks: render from the URL state; controls, node clicks and table clicks write the URL.
Scope and language come from the session; a region from the URL or a click is clamped or refused."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from components.figures import empty_figure
from components.format import count
from components.flows import (EXPAND_STEP, GAP_FIELDS, MAX_LIMIT, MORE, click_key, export_file, fund_option_list,
                              gap_columns, gap_rows, kpi_row, limits_from, sankey_figure)
from components.shell import breadcrumb
from core.audit import log_event
from core.i18n import t
from core.scope import LEVELS, level_of
from core.viewer import current_lang, current_scope
from data_access import flows, meta
from pages.flows import STATE_KEYS, Ids

FILTERS = ("fund", "category", "year_from", "year_to")


def _int(v):
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def parse(state: dict | None) -> dict:
    s = dict(state or {})
    return {"region": s.get("region") or None, "fund": s.get("fund") or None, "category": s.get("category") or None,
            "year_from": _int(s.get("year_from")), "year_to": _int(s.get("year_to")),
            **{f"n_{lv}": _int(s.get(f"n_{lv}")) for lv in LEVELS[1:]}}


def query(state: dict) -> str:
    q = {k: state[k] for k in STATE_KEYS if state.get(k) not in (None, "")}
    return "?" + urlencode(q) if q else ""


def _args(s: dict) -> tuple:
    return s["region"], s["fund"], s["category"], s["year_from"], s["year_to"]


@callback(
    Output(Ids.CRUMB, "children"), Output(Ids.KPIS, "children"), Output(Ids.SANKEY, "figure"),
    Output(Ids.TAIL, "children"), Output(Ids.GRID, "rowData"), Output(Ids.GRID, "columnDefs"),
    Output(Ids.FUND, "options"), Output(Ids.CATEGORY, "options"), Output(Ids.YEAR_FROM, "options"),
    Output(Ids.YEAR_TO, "options"),
    Input(Ids.STATE, "data"),
)
def render(state):
    scope, lang = current_scope(), current_lang()
    s = parse(state)
    crumbs = meta.breadcrumb(scope, s["region"])
    if not crumbs:
        msg = t("scope.none", lang)
        return msg, [], empty_figure(msg), "", [], gap_columns(lang), [], [], [], []
    s["region"] = crumbs[-1]["code"]
    f = flows.flow(scope, *_args(s))
    fig, tail = sankey_figure(f, limits_from(s), lang)
    tail_text = " · ".join(t("flows.tail", lang, n=count(n), levels=t(f"levels.{lv}", lang)) for lv, n in tail.items())
    rows = gap_rows(flows.gaps(scope, *_args(s)), lang)
    opts = flows.fund_options(scope)
    cat_opts = flows.selected_funds(scope, None, s["category"], s["year_from"], s["year_to"])
    fund_opts = fund_option_list(cat_opts, lang, s["fund"], everything=opts)
    cats = [{"label": t(f"category.{c}", lang), "value": c} for c in sorted(set(opts["category"]))]
    years = [{"label": str(y), "value": int(y)} for y in sorted(set(opts["year"].astype(int)))]
    extra = {k: s[k] for k in FILTERS if s.get(k) not in (None, "")}
    return (breadcrumb(crumbs, "/flows", lang, extra), kpi_row(f, lang), fig, tail_text, rows, gap_columns(lang),
            fund_opts, cats, years, years)


@callback(
    Output(Ids.FUND, "options", allow_duplicate=True),
    Input(Ids.FUND, "search_value"), State(Ids.FUND, "value"), State(Ids.STATE, "data"),
    prevent_initial_call=True,
)
def search_funds(text, value, state):
    """Typing in the fund dropdown searches the viewer's fund items (within the chosen category and years)
    on the server; only the first matches travel."""
    if not isinstance(text, str) or not text.strip():
        raise PreventUpdate
    scope, lang = current_scope(), current_lang()
    s = parse(state)
    funds = flows.selected_funds(scope, None, s["category"], s["year_from"], s["year_to"])
    return fund_option_list(funds, lang, value if isinstance(value, str) else None, text[:60],
                            everything=flows.fund_options(scope))


@callback(
    Output("state-url", "search", allow_duplicate=True), Output("state-url", "href", allow_duplicate=True),
    Input(Ids.FUND, "value"), Input(Ids.CATEGORY, "value"), Input(Ids.YEAR_FROM, "value"), Input(Ids.YEAR_TO, "value"),
    Input(Ids.SANKEY, "clickData"), Input(Ids.GRID, "cellClicked"), Input(Ids.RESET, "n_clicks"),
    State(Ids.STATE, "data"),
    prevent_initial_call=True,
)
def navigate(fund, category, year_from, year_to, click, cell, reset, state):
    """Filters, re-rooting and expanding live in the URL; a village opens the village page."""
    old = parse(state)
    s = dict(old)
    trig = ctx.triggered_id
    scope = current_scope()
    if trig == Ids.FUND:
        if fund == MORE:
            return no_update, no_update
        s["fund"] = fund or None
    elif trig == Ids.CATEGORY:
        s["category"] = category or None
        s["fund"] = None
    elif trig == Ids.YEAR_FROM:
        s["year_from"] = _int(year_from)
        s["fund"] = None if year_from not in (None, "") and s["fund"] else s["fund"]
    elif trig == Ids.YEAR_TO:
        s["year_to"] = _int(year_to)
        s["fund"] = None if year_to not in (None, "") and s["fund"] else s["fund"]
    elif trig == Ids.RESET:
        for lv in LEVELS[1:]:
            s[f"n_{lv}"] = None
    elif trig in (Ids.SANKEY, Ids.GRID):
        key = click_key(click) if trig == Ids.SANKEY else (f"r:{cell.get('rowId')}" if isinstance(cell, dict) else None)
        if not key:
            return no_update, no_update
        if key.startswith("o:"):
            lv = key[2:]
            if lv not in LEVELS[1:]:
                return no_update, no_update
            cur = limits_from(s)[lv]
            s[f"n_{lv}"] = min(MAX_LIMIT, cur + EXPAND_STEP)
        else:
            code = key[2:]
            if not scope.allows(code):
                return no_update, no_update
            if level_of(code) == "village":
                return no_update, "/village?" + urlencode({"village": code})
            s["region"] = code
            for lv in LEVELS[1:]:
                s[f"n_{lv}"] = None
    else:
        return no_update, no_update
    if s == old:
        return no_update, no_update
    return query(s), no_update


@callback(
    Output(Ids.DOWNLOAD, "data"),
    Input(Ids.CSV, "n_clicks"), Input(Ids.XLSX, "n_clicks"),
    State(Ids.STATE, "data"),
    prevent_initial_call=True,
)
def export(_csv, _xlsx, state):
    """The gap table as on screen (same scope, same rows) as CSV or XLSX."""
    scope, lang = current_scope(), current_lang()
    s = parse(state)
    fmt = "xlsx" if ctx.triggered_id == Ids.XLSX else "csv"
    crumbs = meta.breadcrumb(scope, s["region"])
    if not crumbs:
        return no_update
    s["region"] = crumbs[-1]["code"]
    rows = gap_rows(flows.gaps(scope, *_args(s)), lang)
    log_event("export", "/flows", detail={"table_name": "flows.gaps", "format": fmt, "rows": len(rows),
                                          "region": s["region"], "fund": s["fund"], "category": s["category"]})
    cols = [(c, t(f"flows.col.{c}", lang)) for c in GAP_FIELDS]
    return export_file(rows, cols, fmt, f"fund-flow-gaps-{s['region']}")
