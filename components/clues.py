"""Pure builders of the clue pages: grid columns and rows, rule-run notices, funnel, precision table,
the detail view (flagged record and evidence side by side, history), the groups, exports."""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.format import count, money, pct
from core.i18n import has, t
from data_access.base import plain_records

EXPORT_COLUMNS = ("clue_id", "rule", "rule_label", "region_name", "region_code", "fund_code", "table_name",
                  "record_id", "id_number", "amount_at_risk", "n_rules", "priority", "status_label", "detected_at",
                  "batch_id")


def rule_label(rule: str, lang: str) -> str:
    key = f"rule.{rule}.name"
    return f"{rule} {t(key, lang)}" if has(key) else str(rule)


def grid_columns(lang: str) -> list[dict]:
    num = {"filter": "agNumberColumnFilter", "type": "rightAligned"}
    txt = {"filter": "agTextColumnFilter", "filterParams": {"filterOptions": ["contains", "equals"], "maxNumConditions": 1}}
    return [
        {"field": "clue_id", "headerName": t("clues.col.clue_id", lang), "width": 110, **num,
         "cellStyle": {"color": "#2e6da4", "textDecoration": "underline", "cursor": "pointer"}},
        {"field": "rule_label", "colId": "rule", "headerName": t("clues.col.rule", lang), "minWidth": 170, **txt},
        {"field": "region_name", "headerName": t("clues.col.region", lang), "minWidth": 140, **txt},
        {"field": "fund_code", "headerName": t("clues.col.fund", lang), **txt},
        {"field": "table_label", "colId": "table_name", "headerName": t("clues.col.table", lang), "sortable": True},
        {"field": "record_id", "headerName": t("clues.col.record", lang), **txt},
        {"field": "id_number", "headerName": t("clues.col.id_number", lang), "sortable": False, "minWidth": 170},
        {"field": "amount_at_risk", "headerName": t("clues.col.amount", lang), **num},
        {"field": "priority", "headerName": t("clues.col.priority", lang), **num},
        {"field": "n_rules", "headerName": t("clues.col.n_rules", lang), "width": 100, **num},
        {"field": "status_label", "colId": "status", "headerName": t("clues.col.status", lang), "sortable": True},
        {"field": "batch_id", "headerName": t("clues.col.batch", lang), "sortable": False},
        {"field": "detected_at", "headerName": t("clues.col.detected", lang)},
    ]


def grid_rows(rows: list[dict], lang: str) -> list[dict]:
    out = []
    for r in rows:
        r = dict(r)
        r["rule_label"] = rule_label(r["rule"], lang)
        r["status_label"] = t(f"clues.status.{r['status']}", lang) if has(f"clues.status.{r['status']}") else r["status"]
        r["table_label"] = t(f"clues.table.{r['table_name']}", lang) if has(f"clues.table.{r['table_name']}") else r["table_name"]
        out.append(r)
    return out


def rule_notices(runs: pd.DataFrame, lang: str):
    """Which rules did not run and why; which fired on more than the flood share of their records."""
    if runs.empty:
        return dbc.Alert(t("clues.no_runs", lang), color="secondary", className="py-2")
    items = []
    rows = plain_records(runs, ["rule", "ran", "reason", "share", "clues", "examined", "flood"])
    skipped = [r for r in rows if not r["ran"]]
    if skipped:
        items.append(dbc.Alert([html.B(t("clues.not_run", lang)), html.Ul([
            html.Li(f"{rule_label(r['rule'], lang)}: "
                    f"{t(r['reason'], lang) if r['reason'] and has(r['reason']) else t('clues.not_run_unknown', lang)}")
            for r in skipped], className="mb-0 small")], color="warning", className="py-2 rule-skipped"))
    flood = [r for r in rows if r["flood"]]
    if flood:
        items.append(dbc.Alert([html.B(t("clues.flood", lang)), html.Ul([
            html.Li(t("clues.flood_item", lang, rule=rule_label(r["rule"], lang), share=pct(r["share"], 1),
                      clues=count(r["clues"]), examined=count(r["examined"])))
            for r in flood], className="mb-0 small")], color="danger", className="py-2 rule-flood"))
    ran = sum(1 for r in rows if r["ran"])
    items.append(html.Div(t("clues.ran", lang, n=ran, total=len(rows)), className="text-muted small mb-2"))
    return html.Div(items)


def funnel_view(f: dict, lang: str):
    stages = ("clues", "confirmed", "corrected", "cases", "disciplined")
    top = max(1, f.get("clues") or 0)
    bars = []
    for s in stages:
        v = int(f.get(s) or 0)
        bars.append(html.Div([
            html.Span(t(f"clues.funnel.{s}", lang), className="funnel-label", style={"display": "inline-block", "width": "7rem"}),
            html.Span(style={"display": "inline-block", "height": "0.9rem", "background": "#c0392b",
                             "width": f"{max(1, int(200 * v / top))}px", "verticalAlign": "middle"}),
            html.Span(f" {count(v)}", className="ms-1"),
        ], className="small"))
    return html.Div([
        html.H6(t("clues.funnel", lang)), *bars,
        html.Div(t("clues.money", lang, recovered=money(f.get("recovered"), lang), returned=money(f.get("returned"), lang)),
                 className="small mt-1"),
        html.Div(t("clues.dismissed_n", lang, n=count(f.get("dismissed"))), className="small text-muted"),
    ], className="funnel bg-white p-2 border rounded")


def precision_table(df: pd.DataFrame, lang: str):
    if df.empty:
        return html.Div(t("clues.none", lang), className="text-muted")
    head = html.Thead(html.Tr([html.Th(t(f"clues.prec.{k}", lang)) for k in
                               ("rule", "clues", "confirmed", "dismissed", "precision", "thresholds")]))
    body = []
    for rule, clues, confirmed, dismissed, precision, thresholds in zip(
            *(df[c].tolist() for c in ("rule", "clues", "confirmed", "dismissed", "precision", "thresholds"))):
        th = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}"
                       for k, v in (thresholds or {}).items())
        body.append(html.Tr([html.Td(rule_label(rule, lang)), html.Td(count(clues)), html.Td(count(confirmed)),
                             html.Td(count(dismissed)),
                             html.Td(pct(precision, 0) if precision is not None else t("clues.prec.undecided", lang)),
                             html.Td(th or "—", className="small")]))
    return html.Div([html.H6(t("clues.precision", lang)),
                     dbc.Table([head, html.Tbody(body)], size="sm", className="bg-white precision-table")])


def _kv(d: dict | None, lang: str):
    if not d:
        return html.Div(t("clues.none", lang), className="text-muted")
    rows = []
    for k, v in d.items():
        if isinstance(v, (list, dict)):
            v = json.dumps(v, ensure_ascii=False, indent=1)
            cell = html.Pre(v, className="small mb-0", style={"maxHeight": "220px", "overflow": "auto"})
        else:
            cell = "—" if v is None else str(v)
        rows.append(html.Tr([html.Th(k, className="small text-muted"), html.Td(cell, className="small")]))
    return dbc.Table(html.Tbody(rows), size="sm", className="bg-white kv-table")


def detail_view(d: dict | None, lang: str, may_change: bool):
    if d is None:
        return dbc.Alert(t("clues.not_found", lang), color="warning", className="py-2 clue-not-found")
    c = d["clue"]
    head = html.Div([
        html.H5(t("clues.detail_title", lang, id=c["clue_id"], rule=rule_label(c["rule"], lang))),
        html.Div([
            html.Span(t("clues.detail_region", lang, region=c["region_name"]), className="me-3"),
            html.Span(t("clues.detail_amount", lang, amount=money(c["amount_at_risk"], lang)), className="me-3"),
            html.Span(t("clues.detail_status", lang, status=t(f"clues.status.{c['status']}", lang)), className="me-3"),
            html.Span(t("clues.detail_batch", lang, batch=c["batch_id"],
                        region=c.get("assigned_region_name") or "—"), className="me-3") if c.get("batch_id") else None,
            html.Span(t("clues.detail_reason", lang, reason=t(f"clues.reason.{c['dismiss_reason']}", lang)))
            if c.get("dismiss_reason") else None,
            html.Span(t("clues.detail_outcome", lang, outcome=t(f"clues.outcome.{c['outcome']}", lang),
                        recovered=money(c.get("recovered"), lang), returned=money(c.get("returned"), lang)))
            if c.get("outcome") else None,
        ], className="small mb-2"),
        html.Div(t("clues.readonly", lang), className="text-muted small mb-2") if not may_change else None,
    ])
    hist = d.get("history") or []
    history = html.Div([
        html.H6(t("clues.history", lang)),
        html.Ul([html.Li(t("clues.history_item", lang, at=h["at"], user=h["username"],
                           action=t(f"clues.action.{h['action']}", lang),
                           to=t(f"clues.status.{h['to_status']}", lang)) +
                         (f" ({', '.join(f'{k}: {v}' for k, v in h['detail'].items())})" if h.get("detail") else ""))
                 for h in hist], className="small") if hist else html.Div(t("clues.no_history", lang), className="text-muted small"),
    ])
    return html.Div([head, dbc.Row([
        dbc.Col([html.H6(t("clues.record", lang, table=t(f"clues.table.{c['table_name']}", lang))), _kv(d.get("record"), lang)], lg=6),
        dbc.Col([html.H6(t("clues.evidence", lang)), _kv(d.get("evidence"), lang)], lg=6),
    ]), history], className="clue-detail bg-light border rounded p-2")


def _small_table(df: pd.DataFrame, columns: list[tuple[str, str]], lang: str, link_col: str | None = None):
    if df.empty:
        return html.Div(t("clues.none", lang), className="text-muted small")
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for _, k in columns]))
    body = []
    for r in plain_records(df, [c for c in dict.fromkeys([*(col for col, _ in columns), "top_clue"]) if c in df], 20):
        cells = []
        for col, _ in columns:
            v = r.get(col)
            if col == link_col:
                cells.append(html.Td(html.A(str(v), href=f"/clues?clue={r['top_clue']}")))
            elif col in ("amount_at_risk", "priority"):
                cells.append(html.Td(money(v, lang)))
            else:
                cells.append(html.Td("—" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)))
        body.append(html.Tr(cells))
    return dbc.Table([head, html.Tbody(body)], size="sm", className="bg-white")


def groups_view(persons: pd.DataFrame, projects: pd.DataFrame, lang: str):
    return dbc.Row([
        dbc.Col([html.H6(t("clues.by_person", lang)), _small_table(persons, [
            ("person", "clues.g.person"), ("village_name", "clues.g.village"), ("rules", "clues.g.rules"),
            ("n_clues", "clues.g.n_clues"), ("amount_at_risk", "clues.col.amount"), ("priority", "clues.col.priority")],
            lang, link_col="person")], lg=6),
        dbc.Col([html.H6(t("clues.by_project", lang)), _small_table(projects, [
            ("project_name", "clues.g.project"), ("village_name", "clues.g.village"), ("rules", "clues.g.rules"),
            ("n_clues", "clues.g.n_clues"), ("amount_at_risk", "clues.col.amount"), ("priority", "clues.col.priority")],
            lang, link_col="project_name")], lg=6),
    ])


def export_frame(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rows as the grid shows them, with the grid's headers."""
    rows = grid_rows(plain_records(df), lang)
    out = pd.DataFrame(rows, columns=list(df.columns) + ["rule_label", "status_label", "table_label"])
    out = out[[c for c in EXPORT_COLUMNS]]
    headers = {c: t(f"clues.x.{c}", lang) for c in EXPORT_COLUMNS}
    return out.rename(columns=headers)


def export_payload(df: pd.DataFrame, kind: str, lang: str) -> dict:
    from components.export import download
    return download(export_frame(df, lang), "xlsx" if kind == "xlsx" else "csv", "clues")
