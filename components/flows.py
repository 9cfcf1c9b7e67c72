"""Pure builders for the fund-flow page: the Sankey (with the tail of each level aggregated), the KPI row,
the gap table's rows and columns, and the CSV/XLSX export of a table (shared with the township page)."""
from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.figures import empty_figure, figure
from components.format import count, money
from components.kpi import kpi_card
from core.i18n import t
from core.schema import HALF_FEN
from core.scope import LEVELS, level_of

DEFAULT_LIMIT = 10      # nodes shown per level before the rest is aggregated ("other N villages")
EXPAND_STEP = 20        # a click on "other N ..." shows this many more of that level
MAX_LIMIT = 500
FUND_OPTIONS = 50       # fund items listed in the dropdown at once; typing searches the rest on the server
MORE = "__more__"       # the value of the (disabled) "type to search N more" line
LEVEL_COLOR = {"province": "#2c3e50", "city": "#2e6da4", "county": "#8e44ad", "township": "#16a085",
               "village": "#e67e22"}
SINK_COLOR = {"households": "#27ae60", "projects": "#1abc9c", "retained": "#c0392b", "pending": "#f1c40f",
              "source": "#7f8c8d"}
EPS = HALF_FEN


def fund_option_list(funds: pd.DataFrame, lang: str, selected: str | None = None, query: str | None = None,
                     everything: pd.DataFrame | None = None, limit: int | None = None) -> list[dict]:
    """The fund dropdown's options: the first ``limit`` of ``funds`` (newest first) whose name or code
    contains ``query``, the selected fund always (looked up in ``everything`` when the filters hide it),
    and a disabled last line saying how many more a search would reach. A province has ~1,800 fund
    items: listing them all made the browser index every label for search (~0.7 s per page load)."""
    def label(r) -> str:
        return f"{r.name}（{r.year}）" if lang == "zh" else f"{r.name} ({r.year})"
    limit = FUND_OPTIONS if limit is None else limit
    df = funds
    q = (query or "").strip().lower()
    if q:
        hit = (df["name"].astype(str).str.lower().str.contains(q, regex=False)
               | df["fund_code"].astype(str).str.lower().str.contains(q, regex=False))
        df = df[hit]
    shown = df.head(limit)
    opts = [{"label": label(r), "value": r.fund_code} for r in shown.itertuples(index=False)]
    if selected and selected not in set(shown["fund_code"]):
        pool = funds if everything is None else everything
        opts += [{"label": label(r), "value": r.fund_code} for r in pool[pool["fund_code"] == selected].itertuples(index=False)]
    if len(df) > limit:
        opts.append({"label": t("flows.more_funds", lang, n=count(len(df) - limit)), "value": MORE, "disabled": True})
    return opts


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def limits_from(state: dict) -> dict[str, int]:
    """Per-level node limits from the URL state (n_city, n_county, n_township, n_village)."""
    out = {}
    for lv in LEVELS[1:]:
        try:
            v = int((state or {}).get(f"n_{lv}") or DEFAULT_LIMIT)
        except (TypeError, ValueError):
            v = DEFAULT_LIMIT
        out[lv] = max(1, min(MAX_LIMIT, v))
    return out


def display_map(codes: list, levels: list, amounts: list, root: str, limits: dict[str, int]) -> tuple[dict, dict]:
    """region code -> displayed node key (the code itself, or "o:<level>" for the aggregated tail), and
    per level how many regions the tail holds (the largest ``limits[level]`` of each level keep their node)."""
    disp, tail = {root: root}, {}
    by_level: dict[str, list] = {}                   # levels in the order they first appear
    for code, lv, amount in zip(codes, levels, amounts):
        if code != root:
            by_level.setdefault(lv, []).append((-amount, code))
    for lv, part in by_level.items():
        part.sort()                                  # largest first, then by code
        n = limits.get(lv, DEFAULT_LIMIT)
        for i, (_a, code) in enumerate(part):
            disp[code] = code if i < n else f"o:{lv}"
        if len(part) > n:
            tail[lv] = len(part) - n
    return disp, tail


SANKEY_SUMS = ("in_amount", "passed_on", "paid", "ledger", "left")


def sankey_figure(f: dict | None, limits: dict[str, int], lang: str) -> tuple[dict, dict]:
    """The Sankey and its tail counts. Node customdata = [key, hover text]; key is "r:<code>" for a region,
    "o:<level>" for an aggregated tail, "" for the source and the sinks.
    Built over plain lists: a county's flow has a few hundred nodes and links, where pandas' per-call
    overhead (groupby, map, concat) cost ~8 ms a figure. Sums are exact (math.fsum)."""
    if not f or f["nodes"].empty:
        return empty_figure(t("flows.no_flow", lang)), {}
    nodes, edges, root = f["nodes"], f["edges"], f["root"]
    codes = nodes["region_code"].tolist()
    names, levels = nodes["name"].tolist(), nodes["level"].tolist()
    num = {c: nodes[c].astype(float).tolist() for c in (*SANKEY_SUMS, "from_outside", "retained", "pending")}
    if root not in set(codes):
        codes.append(root)
        names.append(root)
        levels.append(level_of(root))
        for v in num.values():
            v.append(0.0)
    disp, tail = display_map(codes, levels, num["in_amount"], root, limits)
    row_of = {}
    for i, code in enumerate(codes):
        row_of.setdefault(code, i)
    keys: list[str] = []
    index: dict[str, int] = {}
    labels, colors, custom = [], [], []

    def node(key: str, label: str, color: str, hover: str, click: str = ""):
        if key not in index:
            index[key] = len(keys)
            keys.append(key)
            labels.append(label)
            colors.append(color)
            custom.append([click, hover])
        return index[key]

    def region_hover(name, r: dict) -> str:
        return "<br>".join([f"<b>{name}</b>",
                            f"{t('flows.col.in_amount', lang)}: {money(r['in_amount'], lang)}",
                            f"{t('flows.col.passed_on', lang)}: {money(r['passed_on'], lang)}",
                            f"{t('flows.col.paid', lang)}: {money(r['paid'], lang)}",
                            f"{t('flows.col.ledger', lang)}: {money(r['ledger'], lang)}",
                            f"{t('flows.col.left', lang)}: {money(r['left'], lang)}"])

    # the tails' sums: per "o:<level>", each amount summed over its regions
    parts: dict[str, dict[str, list]] = {}
    for i, code in enumerate(codes):
        key = disp.get(code)
        if key is not None and key.startswith("o:"):
            d = parts.setdefault(key, {c: [] for c in SANKEY_SUMS})
            for c in SANKEY_SUMS:
                d[c].append(num[c][i])
    agg = {k: {c: math.fsum(v) for c, v in d.items()} for k, d in parts.items()}

    ids: dict[str, int] = {}

    def nid(code: str) -> int:
        """The node index of a region (its own node, or its level's tail), built once per key."""
        key = disp[code]
        if key not in ids:
            ids[key] = _new_node(code, key)
        return ids[key]

    def _new_node(code: str, key: str) -> int:
        if key.startswith("o:"):
            lv = key[2:]
            a = agg[key]
            label = t("flows.other_n", lang, n=count(tail[lv]), levels=t(f"levels.{lv}", lang))
            hover = "<br>".join([f"<b>{label}</b>", f"{t('flows.col.in_amount', lang)}: {money(a['in_amount'], lang)}",
                                 f"{t('flows.col.left', lang)}: {money(a['left'], lang)}",
                                 t("flows.click_expand", lang)])
            return node(key, label, _rgba(LEVEL_COLOR[lv], 0.5), hover, key)
        i = row_of[code]
        return node(key, f"{names[i]}", LEVEL_COLOR.get(levels[i], "#7f8c8d"),
                    region_hover(names[i], {c: num[c][i] for c in SANKEY_SUMS}), f"r:{code}")

    src = node("source", t("flows.source", lang), SINK_COLOR["source"], t("flows.source_hover", lang))
    nid(root)
    # every region's node (in the nodes' order, so the Sankey's order is by amount), then the links summed
    # per (from node, to node): only amounts above half a fen count, as in the table
    idx = [nid(c) for c in codes]
    holders = dict(zip(codes, idx))
    sinks = {k: node(k, t(f"flows.sink.{k}", lang), SINK_COLOR[k], t(f"flows.sink.{k}", lang))
             for k in ("households", "projects", "pending", "retained")}
    flows_in: dict[tuple[int, int], list[float]] = {}

    def add(s: int, tt: int, v: float) -> None:
        if v > EPS and s != tt:
            flows_in.setdefault((s, tt), []).append(v)

    for i, v in zip(idx, num["from_outside"]):
        add(src, i, v)
    if len(edges):
        for fc, tc, v in zip(edges["from_code"].tolist(), edges["to_code"].tolist(),
                             edges["amount"].astype(float).tolist()):
            if tc in holders and fc is not None and not (isinstance(fc, float) and math.isnan(fc)):
                add(holders.get(fc, src), holders[tc], v)
    for col, sink in (("paid", "households"), ("ledger", "projects"), ("retained", "retained"), ("pending", "pending")):
        for i, v in zip(idx, num[col]):
            add(i, sinks[sink], v)
    links = {k: math.fsum(v) for k, v in flows_in.items()}
    used = {i for pair in links for i in pair}
    keep = [i for i in range(len(keys)) if i in used or keys[i] == root]
    remap = {old: new for new, old in enumerate(keep)}
    src_i, tgt_i, val, lcol, ltext = [], [], [], [], []
    sink_ids = {v: k for k, v in sinks.items()}
    for (s, tt), v in sorted(links.items()):
        src_i.append(remap[s])
        tgt_i.append(remap[tt])
        val.append(round(v, 2))
        lcol.append(_rgba(SINK_COLOR[sink_ids[tt]], 0.35) if tt in sink_ids else "rgba(120,120,120,0.25)")
        ltext.append(f"{labels[s]} → {labels[tt]}: {money(v, lang)}")
    per_col = max([limits.get(lv, DEFAULT_LIMIT) + 1 for lv in tail] + [len(keep) // 3, 6])
    height = int(min(1600, max(520, 46 * per_col)))
    data = [{
        "type": "sankey", "arrangement": "fixed", "valueformat": ",.2f",
        "customdata": [custom[i][0] for i in keep],
        "node": {"label": [labels[i] for i in keep], "color": [colors[i] for i in keep],
                 "customdata": [custom[i] for i in keep], "pad": 20, "thickness": 16,
                 "line": {"width": 0.5, "color": "#fff"},
                 "hovertemplate": "%{customdata[1]}<extra></extra>"},
        "link": {"source": src_i, "target": tgt_i, "value": val, "color": lcol, "customdata": ltext,
                 "hovertemplate": "%{customdata}<extra></extra>"},
    }]
    fig = figure(data, t("flows.sankey_title", lang), height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig, tail


def click_key(click) -> str | None:
    """The node key of a Sankey click ("r:<code>" / "o:<level>"), None for a link, a sink or nothing.
    dcc.Graph passes the trace-level customdata at the point's index, so the figure carries the node keys
    there too; only node points (they have a "depth") count, a link's index means another thing."""
    try:
        p = click["points"][0]
        cd = p["customdata"]
    except (TypeError, KeyError, IndexError):
        return None
    if not isinstance(p, dict) or "depth" not in p:
        return None
    key = cd[0] if isinstance(cd, (list, tuple)) and cd else cd
    return key if isinstance(key, str) and key[:2] in ("r:", "o:") else None


def kpi_row(f: dict | None, lang: str):
    if not f or f["nodes"].empty:
        return [dbc.Col(html.Div(t("flows.no_flow", lang), className="text-muted"))]
    n = f["nodes"]
    codes = n["region_code"].tolist()
    i = codes.index(f["root"]) if f["root"] in codes else None       # (the root's row: no frame masks)
    val = (lambda c: float(n[c].iat[i]) if i is not None else 0.0)
    left = n["left"]
    gap = left > EPS
    cards = [
        kpi_card(t("flows.col.in_amount", lang), money(val("in_amount"), lang)),
        kpi_card(t("flows.col.passed_on", lang), money(val("passed_on"), lang)),
        kpi_card(t("flows.col.paid", lang), money(val("paid") + val("ledger"), lang),
                 t("flows.kpi.paid_sub", lang, ledger=money(val("ledger"), lang))),
        kpi_card(t("flows.col.left", lang), money(val("left"), lang),
                 t("flows.kpi.left_sub", lang, retained=money(val("retained"), lang),
                   pending=money(val("pending"), lang))),
        kpi_card(t("flows.kpi.paid_all", lang), money(f["paid_inside_all"], lang), t("flows.kpi.paid_all_sub", lang)),
        kpi_card(t("flows.kpi.gaps", lang), money(float(left[gap].sum()), lang),
                 t("flows.kpi.gaps_sub", lang, n=count(int(gap.sum())))),
    ]
    return [dbc.Col(c, xs=12, sm=6, lg=2) for c in cards]


# --- the gap table ---------------------------------------------------------------------------------
GAP_FIELDS = ("name", "region_code", "level", "in_amount", "passed_on", "paid", "ledger", "left", "retained",
              "pending", "status", "r12")
MONEY_FIELDS = ("in_amount", "passed_on", "paid", "ledger", "left", "retained", "pending")


def gap_rows(df: pd.DataFrame, lang: str) -> list[dict]:
    """The rows exactly as the grid shows them and the export writes them. (Over the columns as lists, each
    label translated once: itertuples, getattr and four catalogue lookups per row cost ~1 ms for a city.)"""
    labels: dict[str, str] = {}

    def label(key: str) -> str:
        if key not in labels:
            labels[key] = t(key, lang)
        return labels[key]

    cols = [df[c].tolist() for c in ("name", "region_code", "level", "status", "r12", *MONEY_FIELDS)]
    out = []
    for name, code, level, status, r12, *amounts in zip(*cols):
        row = {"name": name, "region_code": code, "level": label(f"level.{level}"),
               "status": label(f"flows.status.{status}"), "r12": label("flows.yes" if r12 else "flows.no")}
        for c, v in zip(MONEY_FIELDS, amounts):
            row[c] = round(float(v), 2)
        out.append(row)
    return out


def gap_columns(lang: str) -> list[dict]:
    money_fmt = {"function": "d3.format(',.2f')(params.value)"}
    cols = []
    for c in GAP_FIELDS:
        d = {"field": c, "headerName": t(f"flows.col.{c}", lang), "sortable": True, "resizable": True}
        if c in MONEY_FIELDS:
            d.update({"type": "rightAligned", "valueFormatter": money_fmt, "filter": "agNumberColumnFilter", "width": 130})
        elif c == "name":
            d.update({"pinned": "left", "width": 160, "cellClass": "flows-link", "filter": True})
        else:           # a 12-digit division code with the filter icon needs ~150 px
            d.update({"width": 150 if c == "region_code" else 120, "filter": True})
        cols.append(d)
    return cols


# --- export (CSV with a BOM for Excel, XLSX) -------------------------------------------------------
def export_file(rows: list[dict], columns: list[tuple[str, str]], fmt: str, basename: str) -> dict:
    """A dcc.Download payload of ``rows`` (the screen's rows) with ``columns`` [(field, header)]."""
    from components.export import download
    df = pd.DataFrame([[r.get(k) for k, _ in columns] for r in rows], columns=[h for _, h in columns])
    return download(df, fmt, basename)
