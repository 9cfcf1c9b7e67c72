"""Township comparison callbacks: render from the URL state, controls and clicks write the URL, exports
give the table as on screen. Scope and language come from the session; the county is clamped."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import Input, Output, State, callback, ctx, html, no_update

from components.figures import empty_figure
from components.flows import export_file
from components.shell import breadcrumb
from components.townships import (METRICS, TABLE_FIELDS, fence_text, fences, ranking_figure, small_multiples,
                                  table_columns, table_rows)
from core.audit import log_event
from core.i18n import t
from core.viewer import current_lang, current_scope
from data_access import meta, townships
from pages.townships import STATE_KEYS, Ids


def _int(v):
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def parse(state: dict | None) -> dict:
    s = dict(state or {})
    m = s.get("metric")
    return {"county": s.get("county") or None, "year": _int(s.get("year")), "metric": m if m in METRICS else METRICS[0]}


def query(state: dict) -> str:
    q = {k: state[k] for k in STATE_KEYS if state.get(k) not in (None, "")}
    return "?" + urlencode(q) if q else ""


def _data(scope, s):
    county = townships.resolve_county(scope, s["county"])
    return county, townships.townships(scope, county, s["year"])


@callback(
    Output(Ids.CRUMB, "children"), Output(Ids.RANKING, "figure"), Output(Ids.FENCES, "children"),
    Output(Ids.MULTIPLES, "figure"), Output(Ids.GRID, "rowData"), Output(Ids.GRID, "columnDefs"),
    Output(Ids.COUNTY, "options"), Output(Ids.COUNTY, "value"), Output(Ids.YEAR, "options"),
    Input(Ids.STATE, "data"),
)
def render(state):
    scope, lang = current_scope(), current_lang()
    s = parse(state)
    county, df = _data(scope, s)
    if county is None:
        msg = t("scope.none", lang)
        e = empty_figure(msg)
        return msg, e, "", e, [], table_columns(s["metric"], lang), [], None, []
    crumbs = meta.breadcrumb(scope, county) or meta.breadcrumb(scope, None)
    fs = fences(df)
    fence_lines = [html.Div([html.B(t("townships.fence_label", lang, metric=t(f"townships.metric.{m}", lang))),
                             fence_text(m, fs[m], lang)])
                   for m in METRICS]
    counties = [{"label": c["name"], "value": c["code"]} for c in townships.counties(scope)]
    years = [{"label": str(y), "value": y} for y in townships.years(scope, county)]
    extra = {k: s[k] for k in ("year", "metric") if s.get(k) not in (None, "")}
    return (breadcrumb(crumbs, "/townships", lang, extra) if crumbs else "",
            ranking_figure(df, s["metric"], lang), [html.Div(t("townships.fences_title", lang), className="fw-bold"),
                                                    *fence_lines],
            small_multiples(townships.monthly(scope, county, s["year"]), df, s["metric"], lang),
            table_rows(df, s["metric"], lang), table_columns(s["metric"], lang), counties, county, years)


@callback(
    Output("state-url", "search", allow_duplicate=True), Output("state-url", "href", allow_duplicate=True),
    Input(Ids.COUNTY, "value"), Input(Ids.YEAR, "value"), Input(Ids.METRIC, "value"),
    Input(Ids.RANKING, "clickData"), Input(Ids.GRID, "cellClicked"),
    State(Ids.STATE, "data"),
    prevent_initial_call=True,
)
def navigate(county, year, metric, click, cell, state):
    """Controls write the URL; a township (bar or row) opens its fund flow."""
    old = parse(state)
    s = dict(old)
    trig = ctx.triggered_id
    scope = current_scope()
    if trig == Ids.COUNTY:
        if not county or county == townships.resolve_county(scope, old["county"]):
            return no_update, no_update
        s["county"] = county if townships.resolve_county(scope, county) == county else old["county"]
    elif trig == Ids.YEAR:
        s["year"] = _int(year)
    elif trig == Ids.METRIC:
        s["metric"] = metric if metric in METRICS else old["metric"]
    elif trig in (Ids.RANKING, Ids.GRID):
        try:
            code = click["points"][0]["customdata"] if trig == Ids.RANKING else cell["rowId"]
        except (TypeError, KeyError, IndexError):
            return no_update, no_update
        if not isinstance(code, str) or not scope.allows(code):
            return no_update, no_update
        q = {"region": code, **({"year_from": s["year"], "year_to": s["year"]} if s["year"] else {})}
        return no_update, "/flows?" + urlencode(q)
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
    """The ranking table as on screen (same scope, rows and order) as CSV or XLSX."""
    scope, lang = current_scope(), current_lang()
    s = parse(state)
    fmt = "xlsx" if ctx.triggered_id == Ids.XLSX else "csv"
    county, df = _data(scope, s)
    if county is None:
        return no_update
    rows = table_rows(df, s["metric"], lang)
    log_event("export", "/townships", detail={"table_name": "townships.ranking", "format": fmt, "rows": len(rows),
                                              "county": county, "year": s["year"], "metric": s["metric"]})
    cols = [(c, t(f"townships.col.{c}", lang)) for c in TABLE_FIELDS]
    return export_file(rows, cols, fmt, f"townships-{county}-{s['year'] or 'all'}")
