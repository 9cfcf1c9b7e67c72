"""Overview callbacks: parse the URL state, ask data_access with the session's scope, build components."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import Input, Output, State, callback, no_update

from components.overview import kpi_row, ranking_figure, subregion_table, trend_figure
from components.shell import breadcrumb
from core.i18n import t
from core.scope import CHILD_LEVEL, level_of
from core.viewer import current_lang, current_scope
from data_access import meta, overview
from pages.overview import Ids


def _year(v) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


@callback(
    Output(Ids.CRUMB, "children"), Output(Ids.KPIS, "children"), Output(Ids.TREND, "figure"),
    Output(Ids.TOP, "figure"), Output(Ids.BOTTOM, "figure"), Output(Ids.ANOMALY, "figure"),
    Output(Ids.TABLE, "children"), Output(Ids.YEAR, "options"),
    Input(Ids.STATE, "data"),
)
def render(state):
    scope, lang = current_scope(), current_lang()
    state = state or {}
    region, year = state.get("region"), _year(state.get("year"))
    crumbs = meta.breadcrumb(scope, region)
    if not crumbs:
        msg = t("scope.none", lang)
        from components.figures import empty_figure
        e = empty_figure(msg)
        return msg, [], e, e, e, e, None, []
    code = crumbs[-1]["code"]
    k = overview.kpis(scope, code, year)
    trend = overview.monthly(scope, code, year)
    lvl = level_of(code)
    sub_level = "county" if lvl in ("province", "city") else CHILD_LEVEL.get(lvl)
    subs = overview.subregions(scope, code, year, sub_level) if sub_level else overview.subregions(scope, code, year)
    # the charts rank counties (what leaders compare); the table lists the direct children (14 cities
    # for the province rather than 134 counties), each a link one level down
    child = CHILD_LEVEL.get(lvl)
    table_rows = subs if child == sub_level else overview.subregions(scope, code, year, child)
    level_name = t(f"levels.{sub_level}", lang) if sub_level else ""      # "counties" in English
    years = [{"label": str(y), "value": y} for y in overview.years(scope)]
    extra = {"year": year} if year else {}
    return (
        breadcrumb(crumbs, "/", lang, extra),
        kpi_row(k, lang),
        trend_figure(trend, lang),
        ranking_figure(subs, "paid_per_household", t("overview.top", lang, level=level_name), lang),
        ranking_figure(subs, "paid_per_household", t("overview.bottom", lang, level=level_name), lang, ascending=True),
        ranking_figure(subs, "anomaly_rate", t("overview.anomaly", lang, level=level_name), lang, as_pct=True),
        subregion_table(table_rows, lang, "/"),
        years,
    )


@callback(
    Output("state-url", "search", allow_duplicate=True),
    Input(Ids.TOP, "clickData"), Input(Ids.BOTTOM, "clickData"), Input(Ids.ANOMALY, "clickData"),
    Input(Ids.YEAR, "value"),
    State(Ids.STATE, "data"),
    prevent_initial_call=True,
)
def navigate(top, bottom, anomaly, year, state):
    """Drill-down and filters live in the URL; the page re-renders from it (a reload restores it)."""
    from dash import ctx
    state = dict(state or {})
    trig = ctx.triggered_id
    if trig == Ids.YEAR:
        if _year(year) == _year(state.get("year")):
            return no_update
        state["year"] = _year(year)
    else:
        click = {Ids.TOP: top, Ids.BOTTOM: bottom, Ids.ANOMALY: anomaly}.get(trig)
        try:
            code = click["points"][0]["customdata"]
        except (TypeError, KeyError, IndexError):
            return no_update
        if not current_scope().allows(code):
            return no_update
        state["region"] = code
    q = {k: v for k, v in state.items() if v not in (None, "")}
    return "?" + urlencode(q) if q else ""
