"""Clue page callbacks: render from the URL state, serve grid blocks (SQL paging), navigate, export,
and apply workflow actions (role, scope and status checked on the server by data_access.clues)."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import Input, Output, State, callback, ctx, no_update
import dash_bootstrap_components as dbc

from components import clues as cc
from core.audit import log_event
from core.i18n import t
from core.viewer import current_lang, current_scope, current_viewer
from data_access import clues as dc
from data_access import meta
from pages.clues import FILTER_KEYS, Ids


def _filters(state: dict | None) -> dict:
    s = state or {}
    return {k: s.get(k) for k in ("region", "rule", "status", "table", "fund", "min_amount", "max_amount")
            if s.get(k) not in (None, "", [])}


@callback(
    Output(Ids.RUNS, "children"), Output(Ids.FUNNEL, "children"), Output(Ids.PRECISION, "children"),
    Output(Ids.DETAIL, "children"), Output(Ids.GROUPS, "children"), Output(Ids.CRUMB, "children"),
    Output(Ids.RULE, "options"), Output(Ids.FUND, "options"),
    Input(Ids.STATE, "data"),
)
def render(state):
    viewer, lang = current_viewer(), current_lang()
    scope = viewer.scope
    state = state or {}
    crumbs = meta.breadcrumb(scope, state.get("region"))
    if not crumbs:
        msg = t("scope.none", lang)
        return msg, None, None, None, None, None, [], []
    region = crumbs[-1]["code"]
    detail = None
    if state.get("clue"):
        d = dc.clue_detail(scope, state["clue"])
        if d is None:
            log_event("clue_view", str(state["clue"])[:40], "denied", {"reason": "not_found_or_out_of_scope"})
        detail = cc.detail_view(d, lang, dc.can_change(viewer.role))
    opts = dc.filter_options(scope)
    return (cc.rule_notices(dc.rule_status(scope), lang),
            cc.funnel_view(dc.funnel(scope, region), lang),
            cc.precision_table(dc.rule_precision(scope, region), lang),
            detail,
            cc.groups_view(dc.person_groups(scope, region), dc.project_groups(scope, region), lang),
            " › ".join(c["name"] for c in crumbs),
            [{"label": cc.rule_label(r, lang), "value": r} for r in opts["rules"]],
            [{"label": f["name"], "value": f["code"]} for f in opts["funds"]])


@callback(Output(Ids.GRID, "getRowsResponse"), Input(Ids.GRID, "getRowsRequest"), State(Ids.STATE, "data"))
def rows(request, state):
    """One block of rows: paged, sorted and filtered in SQL over whitelisted columns, inside the scope."""
    if not request:
        return no_update
    scope, lang = current_scope(), current_lang()
    page = dc.clue_page(scope, _filters(state), request.get("startRow", 0), request.get("endRow", 100),
                        request.get("sortModel"), request.get("filterModel"))
    return {"rowData": cc.grid_rows(page["rows"], lang), "rowCount": page["count"]}


def _query(state: dict) -> str:
    q = {k: v for k, v in state.items() if k in FILTER_KEYS and v not in (None, "", [])}
    return "?" + urlencode(q) if q else "?"


def _joined(v) -> str | None:
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v) or None
    return v or None


@callback(
    Output("state-url", "search", allow_duplicate=True),
    Input(Ids.APPLY, "n_clicks"), Input(Ids.GRID, "cellClicked"),
    State(Ids.RULE, "value"), State(Ids.STATUS, "value"), State(Ids.TABLE, "value"), State(Ids.FUND, "value"),
    State(Ids.MIN, "value"), State(Ids.MAX, "value"), State(Ids.STATE, "data"),
    prevent_initial_call=True,
)
def navigate(_apply, cell, rule, status, table, fund, lo, hi, state):
    """Filters and the opened clue live in the URL (a reload or a shared link restores them)."""
    state = {k: v for k, v in (state or {}).items() if k != "done"}
    if ctx.triggered_id == Ids.GRID:
        cell = cell or {}
        if cell.get("colId") != "clue_id":
            return no_update
        try:
            cid = int(cell.get("value"))
        except (TypeError, ValueError):
            return no_update
        state["clue"] = cid
    else:
        if ctx.triggered_id != Ids.APPLY or not _apply:
            return no_update
        state.update(rule=_joined(rule), status=_joined(status), table=_joined(table), fund=_joined(fund),
                     min_amount=lo, max_amount=hi, clue=None)
    return _query(state)


@callback(
    Output(Ids.MSG, "children"), Output("state-url", "search", allow_duplicate=True),
    Input(Ids.DO, "n_clicks"),
    State(Ids.GRID, "selectedRows"), State(Ids.ACTION, "value"), State(Ids.REASON, "value"), State(Ids.OUTCOME, "value"),
    State(Ids.RECOVERED, "value"), State(Ids.RETURNED, "value"), State(Ids.NOTE, "value"), State(Ids.STATE, "data"),
    prevent_initial_call=True,
)
def act(_n, selected, action, reason, outcome, recovered, returned, note, state):
    """Apply a workflow action to the selected rows (or, with none selected, the opened clue)."""
    if not _n:
        return no_update, no_update
    viewer, lang = current_viewer(), current_lang()
    state = dict(state or {})
    ids = [r.get("clue_id") for r in (selected or []) if isinstance(r, dict)]
    if not ids and state.get("clue"):
        ids = [state["clue"]]
    res = dc.apply_action(viewer.scope, viewer.username, viewer.role, ids, action, reason=reason, outcome=outcome,
                          recovered=recovered, returned=returned, note=note)
    if res["error"]:
        return dbc.Alert(t(res["error"], lang), color="danger", className="py-2 workflow-error"), no_update
    state["done"] = f"{t('clues.action.' + action, lang)} × {len(res['ok'])}" + (f" ({res['batch']})" if res["batch"] else "")
    return None, "?" + urlencode({k: v for k, v in state.items() if k in FILTER_KEYS and v not in (None, "", [])})


@callback(
    Output(Ids.DOWNLOAD, "data"),
    Input(Ids.CSV, "n_clicks"), Input(Ids.XLSX, "n_clicks"),
    State(Ids.STATE, "data"), State(Ids.GRID, "getRowsRequest"),
    prevent_initial_call=True,
)
def export(_csv, _xlsx, state, request):
    """The same rows as the grid (same filters, sort, scope and masking), every one of them."""
    if not (_csv or _xlsx):
        return no_update
    scope, lang = current_scope(), current_lang()
    request = request or {}
    df = dc.clue_export(scope, _filters(state), request.get("sortModel"), request.get("filterModel"))
    return cc.export_payload(df, "xlsx" if ctx.triggered_id == Ids.XLSX else "csv", lang)
