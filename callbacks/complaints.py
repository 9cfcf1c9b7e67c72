"""Complaints page callbacks: parse the URL state, ask data_access with the session's scope, build
components. Scope, masking and the confidential columns come from the session, never from inputs;
a region in the state or a click is only a wish (data_access clamps it to the scope)."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from components.export import download
from dash import ALL, Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from components import complaints as cc
from components.figures import empty_figure
from components.shell import breadcrumb
from core.audit import log_event
from core.i18n import t
from core.scope import CHILD_LEVEL, level_of
from core.viewer import current_lang, current_scope, current_viewer
from data_access import complaints as dac
from data_access import meta
from pages.complaints import EXPORT, SUBJECT_REMOVE, TABLES, TABS, Ids

EXPORT_LIMIT = 50000
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month(v) -> str | None:
    return v if isinstance(v, str) and _MONTH.match(v) else None


def _parse(state) -> tuple[str | None, str | None, str | None]:
    """(region wish, from, to) from the page state; months are YYYY-MM (swapped when reversed)."""
    state = state if isinstance(state, dict) else {}
    region = state.get("region")
    region = region if isinstance(region, str) else None
    a, b = _month(state.get("from")), _month(state.get("to"))
    if a and b and a > b:
        a, b = b, a
    return region, a, b


def extra_months(*months) -> list[str]:
    return [m for m in months if m]


def _code(scope, region) -> str | None:
    crumbs = meta.breadcrumb(scope, region)
    return crumbs[-1]["code"] if crumbs else None


def _sub_level(code: str) -> str | None:
    lvl = level_of(code)
    return "county" if lvl in ("province", "city") else CHILD_LEVEL.get(lvl)


@callback(
    Output(Ids.CRUMB, "children"), Output(Ids.ASOF, "children"), Output(Ids.KPIS, "children"),
    Output(Ids.FUNNEL, "figure"), Output(Ids.CHANNEL, "figure"), Output(Ids.CATEGORY, "figure"),
    Output(Ids.MONTH, "figure"), Output(Ids.FROM, "options"), Output(Ids.TO, "options"),
    Input(Ids.STATE, "data"),
)
def render_summary(state):
    scope, lang = current_scope(), current_lang()
    region, p_from, p_to = _parse(state)
    crumbs = meta.breadcrumb(scope, region)
    if not crumbs:
        e = empty_figure(t("scope.none", lang))
        return t("scope.none", lang), None, [], e, e, e, e, [], []
    code = crumbs[-1]["code"]
    info = meta.package_info(scope)
    f = dac.complaint_funnel(scope, code, p_from, p_to)
    # the chosen months stay options even where the region received nothing in them
    months = [{"label": m, "value": m} for m in sorted(set(dac.periods(scope, code)) | set(extra_months(p_from, p_to)))]
    extra = {k: v for k, v in (("from", p_from), ("to", p_to)) if v}
    return (
        breadcrumb(crumbs, "/complaints", lang, extra),
        t("complaints.as_of_note", lang, date=info["as_of_date"]) if info else None,
        cc.funnel_cards(f, lang),
        cc.funnel_figure(f, lang),
        cc.breakdown_figure(dac.breakdown(scope, code, p_from, p_to, "channel"), "channel", lang),
        cc.breakdown_figure(dac.breakdown(scope, code, p_from, p_to, "category"), "category", lang),
        cc.breakdown_figure(dac.breakdown(scope, code, p_from, p_to, "period"), "period", lang),
        months, months,
    )


def _compare_df(scope, code, p_from, p_to):
    level = _sub_level(code)
    return (dac.subregions(scope, code, p_from, p_to, level) if level else None), level


@callback(
    Output(Ids.COMPARE_TITLE, "children"), Output(Ids.COMPARE, "figure"), Output(Ids.COMPARE_GRID, "rowData"),
    Input(Ids.STATE, "data"),
)
def render_compare(state):
    scope, lang = current_scope(), current_lang()
    region, p_from, p_to = _parse(state)
    code = _code(scope, region)
    if code is None:
        return None, empty_figure(t("scope.none", lang)), []
    df, level = _compare_df(scope, code, p_from, p_to)
    if level is None:
        return None, empty_figure(t("complaints.no_data", lang)), []
    name = t(f"level.{level}", lang)
    return (t("complaints.compare_table", lang, level=name),
            cc.compare_figure(df, name if lang == "zh" else name.lower(), lang),
            cc.rows("compare", df, lang))


@callback(
    Output(Ids.TIME_KPIS, "children"), Output(Ids.ACCEPT_DAYS, "figure"), Output(Ids.CLOSE_DAYS, "figure"),
    Output(Ids.R22_GRID, "rowData"), Output(Ids.R23_GRID, "rowData"),
    Input(Ids.STATE, "data"),
)
def render_timeliness(state):
    scope, lang = current_scope(), current_lang()
    region, p_from, p_to = _parse(state)
    code = _code(scope, region)
    if code is None:
        e = empty_figure(t("scope.none", lang))
        return [], e, e, [], []
    f = dac.complaint_funnel(scope, code, p_from, p_to)
    tl = dac.timeliness(scope, code, p_from, p_to)
    return (cc.timeliness_cards(f, tl, lang),
            cc.days_figure(tl["accept"] if tl else None, "accept", lang),
            cc.days_figure(tl["close"] if tl else None, "close", lang),
            cc.rows("r22", dac.overdue(scope, code, p_from, p_to, "R22"), lang),
            cc.rows("r23", dac.overdue(scope, code, p_from, p_to, "R23"), lang))


@callback(
    Output(Ids.REPEAT_KPIS, "children"), Output(Ids.REPEAT_GRID, "rowData"), Output(Ids.CORR_GRID, "rowData"),
    Input(Ids.STATE, "data"),
)
def render_repeats(state):
    scope, lang = current_scope(), current_lang()
    region, p_from, p_to = _parse(state)
    code = _code(scope, region)
    if code is None:
        return [], [], []
    r = dac.repeats(scope, code, p_from, p_to)
    return (cc.repeat_cards(r, lang), cc.rows("repeats", r["matters"] if r else None, lang),
            cc.rows("corroboration", dac.corroboration(scope, code, p_from, p_to), lang))


@callback(
    Output(Ids.LIST_GRID, "getRowsResponse"), Output(Ids.LIST_COUNT, "children"), Output(Ids.LIST_QUERY, "data"),
    Input(Ids.LIST_GRID, "getRowsRequest"),
    State(Ids.STATE, "data"),
)
def list_rows(request, state):
    """One block of the infinite complaint list, sorted and filtered in SQL."""
    if not isinstance(request, dict):
        raise PreventUpdate
    scope, lang = current_scope(), current_lang()
    region, p_from, p_to = _parse(state)
    try:
        start = max(0, int(request.get("startRow") or 0))
        end = max(start, int(request.get("endRow") or start + 100))
    except (TypeError, ValueError):
        start, end = 0, 100
    sort_model, filter_model = request.get("sortModel") or [], request.get("filterModel") or {}
    sort, filters = cc.list_query(sort_model, filter_model, lang)
    df, total = dac.complaint_list(scope, region, p_from, p_to, sort, filters, start, min(end - start, 500))
    return ({"rowData": cc.rows("list", df, lang), "rowCount": total},
            t("complaints.list_count", lang, n=f"{total:,}"),
            {"sortModel": sort_model, "filterModel": filter_model})


@callback(
    Output(Ids.DETAIL, "children"), Output(Ids.DETAIL_ID, "data"),
    Input(Ids.LIST_GRID, "cellClicked"), Input(Ids.R22_GRID, "cellClicked"), Input(Ids.R23_GRID, "cellClicked"),
    prevent_initial_call=True,
)
def detail(*clicks):
    """One complaint (the id is a wish: data_access shows it only when it is in the viewer's scope)."""
    click = {Ids.LIST_GRID.value: clicks[0], Ids.R22_GRID.value: clicks[1],
             Ids.R23_GRID.value: clicks[2]}.get(ctx.triggered_id)
    cid = click.get("rowId") if isinstance(click, dict) else None
    if not isinstance(cid, str) or not cid:
        raise PreventUpdate
    d = dac.complaint_detail(current_scope(), cid)
    return cc.detail_card(d, current_lang()), (d["complaint_id"] if d else None)


@callback(
    Output(Ids.SUBJECT_LIST, "children"), Output(Ids.SUBJECT_MSG, "children"), Output(Ids.SUBJECT_INPUT, "value"),
    Output(Ids.SUBJECTS, "style"),
    Input(Ids.DETAIL_ID, "data"), Input(Ids.SUBJECT_ADD, "n_clicks"), Input(Ids.SUBJECT_INPUT, "n_submit"),
    Input({"type": SUBJECT_REMOVE, "ref": ALL}, "n_clicks"),
    State(Ids.SUBJECT_INPUT, "value"),
    prevent_initial_call=True,
)
def subjects(cid, _add, _submit, _removes, id_number):
    """Record or remove who the opened complaint is about. The complaint id and the ID number are
    wishes: data_access checks the role (complaint officer), the scope and the ID number."""
    viewer, lang = current_viewer(), current_lang()
    scope = viewer.scope
    if not isinstance(cid, str) or not cid or not scope.complaints:
        return [], None, no_update, {"display": "none"}
    trig, msg, value = ctx.triggered_id, None, no_update
    if trig in (Ids.SUBJECT_ADD, Ids.SUBJECT_INPUT) and (_add or _submit):
        err = dac.change_subject(scope, viewer.username, cid, "add", id_number=id_number)
        msg = t(err or "complaints.subject.added", lang)
        value = no_update if err else ""
        msg = html.Span(msg, className="text-danger" if err else "text-success")
    elif isinstance(trig, dict) and trig.get("type") == SUBJECT_REMOVE and ctx.triggered[0].get("value"):
        err = dac.change_subject(scope, viewer.username, cid, "remove", ref=trig.get("ref"))
        msg = html.Span(t(err or "complaints.subject.removed", lang), className="text-danger" if err else "text-success")
    items = dac.subjects(scope, cid)
    return cc.subject_list(items, lang, SUBJECT_REMOVE), msg, value, {"display": "block"}


@callback(
    Output("state-url", "search", allow_duplicate=True),
    Input(Ids.FROM, "value"), Input(Ids.TO, "value"), Input(Ids.COMPARE, "clickData"),
    Input(Ids.COMPARE_GRID, "cellClicked"),
    State(Ids.STATE, "data"), State(Ids.TABS, "value"),
    prevent_initial_call=True,
)
def navigate(p_from, p_to, click, cell, state, tab):
    """Period and drill-down live in the URL; the page re-renders from it (a reload restores it)."""
    state = dict(state if isinstance(state, dict) else {})
    trig = ctx.triggered_id
    if trig in (Ids.FROM, Ids.TO):
        key, value = ("from", p_from) if trig == Ids.FROM else ("to", p_to)
        if _month(value) == _month(state.get(key)):
            raise PreventUpdate
        state[key] = _month(value)
    else:
        try:
            code = click["points"][0]["customdata"] if trig == Ids.COMPARE else cell["rowId"]
        except (TypeError, KeyError, IndexError):
            raise PreventUpdate
        if not isinstance(code, str) or not current_scope().allows(code):
            raise PreventUpdate
        state["region"] = code
    q = {k: v for k, v in state.items() if k in ("region", "from", "to") and v not in (None, "")}
    if tab in TABS and tab != TABS[0]:
        q["tab"] = tab                      # a drill-down from the comparison stays on the comparison
    return "?" + urlencode(q) if q else ""



def table_data(table: str, state, list_query: dict | None = None) -> tuple[list[dict], list[dict], str]:
    """(columnDefs, rows, region code) of one table exactly as the page shows it (used by the export)."""
    scope, lang = current_scope(), current_lang()
    region, p_from, p_to = _parse(state)
    code = _code(scope, region)
    defs = cc.columns(table, lang, scope.complaints)
    if code is None:
        return defs, [], ""
    if table == "compare":
        df, _ = _compare_df(scope, code, p_from, p_to)
    elif table in ("r22", "r23"):
        df = dac.overdue(scope, code, p_from, p_to, table.upper())
    elif table == "repeats":
        r = dac.repeats(scope, code, p_from, p_to)
        df = r["matters"] if r else None
    elif table == "corroboration":
        df = dac.corroboration(scope, code, p_from, p_to)
    elif table == "list":
        q = list_query if isinstance(list_query, dict) else {}
        sort, filters = cc.list_query(q.get("sortModel"), q.get("filterModel"), lang)
        df, _ = dac.complaint_list(scope, code, p_from, p_to, sort, filters, 0, EXPORT_LIMIT)
    else:
        raise ValueError(table)
    return defs, cc.rows(table, df, lang), code


@callback(
    Output(Ids.DOWNLOAD, "data"),
    Input({"type": EXPORT, "table": ALL, "fmt": ALL}, "n_clicks"),
    State(Ids.STATE, "data"), State(Ids.LIST_QUERY, "data"),
    prevent_initial_call=True,
)
def export(_clicks, state, list_query):
    """CSV or XLSX of one table: the same data_access call, scope and masking as the screen."""
    trig = ctx.triggered_id
    if not isinstance(trig, dict) or trig.get("table") not in TABLES or trig.get("fmt") not in ("csv", "xlsx"):
        raise PreventUpdate
    if not any(v for v in (ctx.triggered[0].get("value"),) if v):
        raise PreventUpdate
    defs, data, code = table_data(trig["table"], state, list_query)
    frame = cc.export_frame(defs, data)
    name = f"complaints-{trig['table']}-{code or 'none'}"
    _, p_from, p_to = _parse(state)
    # what was exported, by whom (the security layer may also record the download itself)
    log_event("export", f"{name}.{trig['fmt']}", "ok",
              {"table": trig["table"], "format": trig["fmt"], "rows": len(frame), "region": code,
               "from": p_from, "to": p_to, "confidential": bool(current_scope().complaints)})
    return download(frame, trig["fmt"], name, sheet=trig["table"])
