"""Anomaly map callbacks: the county map is drawn once per page load and recoloured with a Patch;
the township map and the panel follow the selection; the state is mirrored into the URL silently."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import Input, Output, Patch, State, callback, ctx, no_update

from components import map as cm
from core.i18n import t
from core.scope import level_of, normalize_code
from core.viewer import current_lang, current_scope
from data_access import grades, meta
from data_access import map as dm
from pages.map import Ids


def _metric(v) -> str:
    return v if v in cm.METRIC_OPTIONS else cm.METRIC_OPTIONS[0]


def _year(v) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


@callback(Output(Ids.COUNTIES, "figure"), Output(Ids.YEAR, "options"),
          Input(Ids.METRIC, "value"), Input(Ids.YEAR, "value"))
def draw_counties(metric, year):
    """First call: the whole figure (shapes included). Later calls: only the new colours (a Patch)."""
    scope, lang = current_scope(), current_lang()
    metric, year = _metric(metric), _year(year)
    shapes = dm.county_shapes(scope)
    if shapes is None:
        from components.figures import empty_figure
        return empty_figure(t("scope.none", lang)), []
    df = dm.county_metrics(scope, metric, year)
    if ctx.triggered_id is None:
        fig = cm.choropleth(shapes, df, metric, lang, cm.county_title(metric, lang, year))
        return fig, [{"label": str(y), "value": y} for y in grades.years(scope)]
    codes = [f["id"] for f in shapes["features"]]
    names = {f["id"]: f["properties"]["name"] for f in shapes["features"]}
    new = cm.recolour(codes, names, df, metric, lang, year)
    p = Patch()
    p["data"][0]["z"] = new["z"]
    p["data"][0]["customdata"] = new["customdata"]
    p["data"][0]["hovertemplate"] = new["hovertemplate"]
    p["data"][0]["colorbar"] = new["colorbar"]
    p["layout"]["title"]["text"] = new["title"]
    return p, no_update


@callback(Output(Ids.SEL, "data"),
          Input(Ids.COUNTIES, "clickData"), Input(Ids.TOWNSHIPS, "clickData"),
          State(Ids.SEL, "data"), prevent_initial_call=True)
def select(county_click, township_click, sel):
    """A click on a county opens its townships; a click on a township lists its villages."""
    scope = current_scope()
    sel = dict(sel or {})
    click = county_click if ctx.triggered_id == Ids.COUNTIES else township_click
    try:
        code = normalize_code(click["points"][0]["location"])
    except (TypeError, KeyError, IndexError, ValueError):
        return no_update
    if ctx.triggered_id == Ids.COUNTIES:
        opened = dm.open_county(scope, code)
        if opened != code:
            return no_update
        return {"county": code, "township": None}
    county = dm.open_county(scope, sel.get("county"))
    if county is None or level_of(code) != "township" or not code.startswith(county[:6]):
        return no_update
    if not (scope.allows(code) or scope.region_code.startswith(code[:9])):
        return no_update
    return {"county": county, "township": code}


@callback(Output(Ids.TOWNSHIPS, "figure"),
          Input(Ids.SEL, "data"), Input(Ids.METRIC, "value"), Input(Ids.YEAR, "value"))
def draw_townships(sel, metric, year):
    scope, lang = current_scope(), current_lang()
    metric, year = _metric(metric), _year(year)
    county = dm.open_county(scope, (sel or {}).get("county"))
    shapes = dm.township_shapes(scope, county) if county else None
    df = dm.township_metrics(scope, county, metric, year) if county else None
    name = (meta.breadcrumb(scope, county)[-1]["name"] if county and scope.allows(county)
            else (shapes and county and _county_name(county)))
    return cm.township_figure(shapes, df, metric, lang, name)


def _county_name(code: str) -> str:
    from data_access.base import region_names
    return region_names([code]).get(code, code)


@callback(Output(Ids.PANEL, "children"), Output(Ids.GRADE, "children"), Output(Ids.CRUMB, "children"),
          Input(Ids.SEL, "data"), Input(Ids.METRIC, "value"), Input(Ids.YEAR, "value"))
def panel(sel, metric, year):
    scope, lang = current_scope(), current_lang()
    metric, year = _metric(metric), _year(year)
    sel = sel or {}
    county = dm.open_county(scope, sel.get("county"))
    township = sel.get("township") if county else None
    villages = dm.village_metrics(scope, township, metric, year) if township else None
    focus = township or county
    focus = focus if focus and scope.allows(focus) else (scope.region_code if not scope.is_empty else None)
    g = grades.region_grade(scope, focus, year) if focus else None
    crumbs = meta.breadcrumb(scope, focus) if focus else []
    tname = None
    if township:
        tname = _county_name(township)
    return (cm.township_panel(county, _county_name(county) if county else None, township, tname,
                              villages if villages is not None else cm.pd.DataFrame(), metric, lang),
            cm.grade_breakdown(g, lang, grades.component_link),
            " › ".join(c["name"] for c in crumbs) if crumbs else None)


@callback(Output(Ids.URL, "search"),
          Input(Ids.METRIC, "value"), Input(Ids.YEAR, "value"), Input(Ids.SEL, "data"),
          prevent_initial_call=True)
def sync_url(metric, year, sel):
    """Mirror the state into the address bar without reloading the page (a reload restores it)."""
    sel = sel or {}
    q = {"metric": _metric(metric), "year": _year(year), "county": sel.get("county"), "township": sel.get("township")}
    q = {k: v for k, v in q.items() if v not in (None, "")}
    return "?" + urlencode(q)
