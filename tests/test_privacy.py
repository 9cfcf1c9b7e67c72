"""Scope and privacy, checked on the raw JSON the browser receives.

The generic tests WALK ``app.callback_map`` (so callbacks added later by other pages are covered):
each role logs in, every server callback is posted with forged inputs (another county's code,
another village's id, in stores, URL search strings, clickData, values) and the response must
carry no data from outside the role's scope, no checksum-valid full ID number without the ``pii``
grant, no complainant field for anyone but the complaint officer; each forged request leaves a
``refused`` audit row. Specific tests pin the overview and audit callbacks down to their numbers."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from core import auth
from core.db import get_engine
from core.idnumber import is_valid, make_id, mask_id, mask_name
from core.scope import Scope, ancestors, normalize_code
from core.security import full_id_numbers
from tests.conftest import login
from tests.package_factory import C1, C3, CITY, PROV, T1, V1, V2, V3
from tests.test_security import audit_rows_since, callback_body, last_audit_id, post_callback
from tests.test_security import cheap_argon2  # noqa: F401  (autouse: argon2id at its smallest cost)

# the package's confidential complaint fields (tests/package_factory.py)
COMPLAINANT_MARKERS = ("complainant_name", "complainant_contact", "李秘密", "王保密", "13800000000", "13900000000",
                       "反映低保评定不公", "村财务不公开")

# (role, scope, pii, forged codes): each forged code lies outside the scope
SCENARIOS = [
    ("province_leader", "43", False, ["110000000000", "110101000000"]),
    ("city_official", "4304", False, ["430100000000", "430102001000"]),
    ("county_official", "430421", False, [C3, V3]),
    ("analyst", V1, True, [V2, C3]),                   # a village analyst with pii: the next village is out
    ("analyst", "430421", False, [V3, CITY]),
    ("complaint_officer", "430421", False, [V3, C3]),
    ("admin", None, False, [C1, V1]),
]
IDS = [f"{r}@{s}{'+pii' if p else ''}" for r, s, p, _ in SCENARIOS]


# --- forging -------------------------------------------------------------------------------------
def forged_value(dep: dict, code: str, page_path: str = "/", rec: dict | None = None, term: str | None = None):
    """A plausible value for an input or state, carrying ``code`` wherever a region can go and the
    record ids of ``rec`` (person, project, entry, complaint, clue) wherever an id can go."""
    rec = rec or {}
    prop = dep["property"]
    ids = {"id": rec.get("person", code), "person": rec.get("person", code), "project": rec.get("project", code),
           "entry": rec.get("entry", code), "complaint": rec.get("complaint", code), "clue": rec.get("clue", code)}
    if prop == "pathname":
        return page_path
    if prop in ("search", "href"):
        q = {"region": code, "county": code, "township": code, "village": code, "code": code, "year": 2023, **ids}
        return "?" + "&".join(f"{k}={v}" for k, v in q.items())
    if prop == "hash":
        return ""
    if prop == "data":
        return {"region": code, "county": code, "township": code, "village": code, "code": code, "region_code": code,
                "year": 2023, "household": ids["person"], **ids}
    if prop in ("clickData", "hoverData", "selectedData", "relayoutData"):
        return {"points": [{"customdata": code, "location": code, "x": code, "y": 1, "label": code, "id": code,
                            "text": code}]}
    if prop in ("n_clicks", "n_submit", "n_clicks_timestamp"):
        return 1
    if prop in ("start_date", "end_date", "date"):
        return None
    if prop in ("selectedRows", "virtualRowData", "rowData"):
        return [{"region_code": code, "code": code, **ids}]
    if prop in ("cellClicked", "cellDoubleClicked", "cellRendererData"):
        return {"value": code, "colId": "region_code", "rowId": code, "rowIndex": 0}
    if prop == "getRowsRequest":                       # ag-grid's infinite row model
        return {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}
    if prop == "filterModel":
        return {"region_code": {"filterType": "text", "type": "equals", "filter": code}}
    if prop in ("sortModel", "columnState"):
        return []
    if prop == "value" and term is not None:           # a search box: a term that matches people everywhere
        return term
    return code


def server_callbacks(dash_app):
    """Every server-side callback of the map (clientside ones run in the browser only)."""
    dash_app.server.test_client().get("/login")       # Dash fills the map on the first request
    return [(out, spec) for out, spec in dash_app.callback_map.items() if "callback" in spec]


def page_paths() -> list[str]:
    import dash
    return sorted({p["path"] for p in dash.page_registry.values()})


def forged_requests(dash_app, code: str, rec: dict | None = None, term: str | None = None):
    """(label, body) for every server callback; the page-content callback once per registered page."""
    for out, spec in server_callbacks(dash_app):
        paths = page_paths() if any(d["property"] == "pathname" for d in spec["inputs"]) else ["/"]
        for path in paths:
            body = callback_body(out, spec, lambda d: forged_value(d, code, path, rec, term))
            # pattern-matching inputs: a concrete id with the forged code for MATCH, an empty list for ALL
            for part in ("inputs", "state"):
                fixed = []
                for dep in body[part]:
                    ident = dep["id"]
                    if isinstance(ident, dict):
                        if any(v == ["ALL"] for v in ident.values()):
                            fixed.append([])
                            continue
                        dep = {**dep, "id": {k: (code if isinstance(v, list) else v) for k, v in ident.items()}}
                    fixed.append(dep)
                body[part] = fixed
            yield f"{out[:60]} {path}", body


# --- what lies outside a scope -------------------------------------------------------------------
# Region names and codes at county level and above are public geography (a province map may label
# every county "no data or outside your jurisdiction"); what must not cross the scope is data: the
# townships and villages with data, the people, complaints and ledger entries of another place.
def _rows_outside(scope: Scope) -> dict[str, set[str]]:
    from core import schema
    with get_engine().connect() as conn:
        regions = conn.execute(select(schema.regions.c.code, schema.regions.c.name).where(
            schema.regions.c.code.in_(select(schema.agg_region_year.c.region_code)))).all()
        people = conn.execute(select(schema.people.c.id_number, schema.people.c.name, schema.people.c.village_code)).all()
        complaints = conn.execute(select(schema.complaints.c.complaint_id, schema.complaints.c.region_code)).all()
        ledger = conn.execute(select(schema.ledger.c.counterparty_name, schema.ledger.c.village_code)).all()
    above = set(ancestors(scope.region_code)) if scope.region_code else set()

    def split(rows):
        inside = {v for v, c in rows if scope.allows(c) or c in above}
        return {v for v, c in rows if not scope.allows(c) and c not in above and v not in inside}, inside

    deep = [(c, n) for c, n in regions if c[6:] != "000000"]            # townships and villages
    codes, _ = split([(c, c) for c, _ in deep])
    names, inside_names = split([(n, c) for c, n in deep])
    names = {n for n in names if not any(n in m for m in inside_names)}
    return {"codes": codes, "names": names,
            "ids": split([(i, v) for i, _, v in people])[0],
            "people": split([(n, v) for _, n, v in people])[0],
            "complaints": split(complaints)[0],
            "counterparties": split(ledger)[0]}


def records(scope: Scope, inside: bool) -> dict:
    """Ids of one person, project, ledger entry, complaint and clue inside (or outside) the scope."""
    from core import schema as S
    pairs = {"person": (S.people.c.id_number, S.people.c.village_code),
             "project": (S.projects.c.project_code, S.projects.c.region_code),
             "entry": (S.ledger.c.entry_id, S.ledger.c.village_code),
             "complaint": (S.complaints.c.complaint_id, S.complaints.c.region_code),
             "clue": (S.clues.c.clue_id, S.clues.c.region_code)}
    out = {}
    with get_engine().connect() as conn:
        for key, (col, region) in pairs.items():
            for value, code in conn.execute(select(col, region).order_by(col)):
                if scope.allows(code) == inside:
                    out[key] = str(value)
                    break
    return out


CODE_RE = re.compile(r"(?<![0-9])([1-8][0-9]{11})(?![0-9])")


def assert_nothing_outside(text: str, scope: Scope, forged: set[str], label: str) -> None:
    out = _rows_outside(scope)
    leaked = (set(CODE_RE.findall(text)) & out["codes"]) - forged        # echoing the wish itself is no leak
    assert not leaked, f"{label}: codes outside the scope {sorted(leaked)}"
    for kind in ("names", "people", "counterparties"):
        leaked = {n for n in out[kind] if n and n in text}
        assert not leaked, f"{label}: {kind} outside the scope {sorted(leaked)}"
    for idn in out["ids"] - forged:                   # (an ID number the request itself carried may come back)
        assert idn not in text and mask_id(idn) not in text, f"{label}: a person outside the scope"
    leaked = {c for c in out["complaints"] if re.search(rf"(?<![A-Za-z0-9]){re.escape(c)}(?![A-Za-z0-9])", text)}
    assert not leaked, f"{label}: complaints outside the scope {sorted(leaked)}"


# --- the walk ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sessions(dash_app):
    """One logged-in client per scenario (logging in costs an argon2 verification)."""
    out = {}
    for role, region, pii, _ in SCENARIOS:
        client = dash_app.server.test_client()
        name = login(client, role, region, pii=pii)
        out[(role, region, pii)] = (client, name)
    return out


def _scope(role, region, pii) -> Scope:
    if role == "admin":
        return Scope.none()
    return Scope(normalize_code(region), pii=pii, complaints=role == "complaint_officer")


@pytest.mark.parametrize("role,region,pii,forged", SCENARIOS, ids=IDS)
def test_forged_inputs_reach_nothing_outside_the_scope(dash_app, sessions, role, region, pii, forged):
    client, name = sessions[(role, region, pii)]
    scope = _scope(role, region, pii)
    n = 0
    rec = records(scope, inside=False)
    for code, term in [(c, None) for c in forged] + [(forged[0], "张")]:
        for label, body in forged_requests(dash_app, code, rec, term):
            before = last_audit_id()
            r = post_callback(client, body)
            text = r.get_data(as_text=True)
            assert r.status_code in (200, 204, 500), f"{label}: {r.status_code}"
            if r.status_code == 500:        # a callback that chokes on garbage must not say why
                assert r.get_json() == {"error": "服务器内部错误", "status": 500}, label
            assert_nothing_outside(text, scope, set(forged) | set(rec.values()), label)
            if not pii:
                sent = json.dumps(body)
                assert not [i for i in full_id_numbers(text) if i not in sent], \
                    f"{label}: a full ID number reached a viewer without pii"
            if role != "complaint_officer":
                found = [m for m in COMPLAINANT_MARKERS if m in text]
                assert not found, f"{label}: complainant fields {found}"
            rows = audit_rows_since(before, username=name)
            if code in json.dumps(body):                # (a callback without region-carrying inputs asks for nothing)
                assert any(r_["action"] == "refused" and r_["result"] == "denied" for r_ in rows), \
                    f"{label}: the forged request left no refused audit row"
            assert not [r_ for r_ in rows if r_["action"] == "pii_masked"], \
                f"{label}: data_access let a full ID number out (the response filter had to mask it)"
            assert_exports_audited(text, [r_["action"] for r_ in rows], label)
            n += 1
    assert n >= 2 * len(server_callbacks(dash_app))


@pytest.mark.parametrize("role,region,pii,forged", SCENARIOS, ids=IDS)
def test_honest_inputs_show_no_id_numbers_or_complainants(dash_app, sessions, role, region, pii, forged):
    """The same walk with the viewer's own region: still no full ID number without pii, no complainant."""
    client, name = sessions[(role, region, pii)]
    own = normalize_code(region) if region else C1
    for label, body in forged_requests(dash_app, own, records(_scope(role, region, pii), inside=True), "张"):
        before = last_audit_id()
        r = post_callback(client, body)
        text = r.get_data(as_text=True)
        sent = json.dumps(body)
        full = [i for i in full_id_numbers(text) if i not in sent]
        rows = audit_rows_since(before, username=name)
        actions = [r_["action"] for r_ in rows]
        if not pii:
            assert not full, label
        elif full:                                      # every view of full personal data is audited
            assert "view_pii" in actions, label
        assert "pii_masked" not in actions, f"{label}: data_access let a full ID number out"
        if role != "complaint_officer":
            assert not [m for m in COMPLAINANT_MARKERS if m in text], label
        assert_exports_audited(text, actions, label)


def assert_exports_audited(text: str, actions: list[str], label: str) -> None:
    """A response that carries a download (dcc.Download) left an export row in the audit trail."""
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        return
    from core.security import downloads
    if payload and downloads(payload):
        assert any(a.startswith("export") for a in actions), f"{label}: an export without an audit row"


def test_the_scan_sees_what_is_there(dash_app, sessions):
    """Positive control: a province leader asking for 衡南县 gets it, and the marker scan would notice."""
    client, _ = sessions[("province_leader", "43", False)]
    out = next(k for k, _ in server_callbacks(dash_app) if "overview-kpis" in k)
    r = post_callback(client, callback_body(out, dash_app.callback_map[out], lambda d: {"region": C3}))
    text = r.get_data(as_text=True)
    assert "衡南县" in text
    with pytest.raises(AssertionError, match="outside the scope"):
        assert_nothing_outside(text, Scope(C1), set(), "control")


# --- the overview, specifically ------------------------------------------------------------------
def _overview(client, dash_app, state):
    out = next(k for k, _ in server_callbacks(dash_app) if "overview-kpis" in k)
    r = post_callback(client, callback_body(out, dash_app.callback_map[out], lambda d: state))
    assert r.status_code == 200
    return r.get_json()["response"]


def _texts(component) -> list[str]:
    out = []

    def walk(c):
        if isinstance(c, dict):
            if "props" in c:
                walk(c["props"].get("children"))
            else:
                for v in c.values():
                    walk(v)
        elif isinstance(c, list):
            for x in c:
                walk(x)
        elif isinstance(c, (str, int, float)):
            out.append(str(c))
    walk(component)
    return out


@pytest.mark.parametrize("region,state,crumbs,table_rows", [
    ("430421", {"region": C3}, ["衡阳县"], ["西渡镇"]),
    ("430421", {"region": V3}, ["衡阳县"], ["西渡镇"]),
    ("430421", {"region": PROV}, ["衡阳县"], ["西渡镇"]),
    ("430421", {"region": "junk'; DROP TABLE users;--"}, ["衡阳县"], ["西渡镇"]),
    ("430421", {"region": T1}, ["衡阳县", "西渡镇"], ["西渡村委会", "保安村委会"]),
    ("4304", {"region": "430100000000"}, ["衡阳市"], ["衡阳县", "衡南县"]),
    ("43", {"region": C3}, ["湖南省", "衡阳市", "衡南县"], ["车江街道"]),
])
def test_overview_clamps_a_forged_region(dash_app, region, state, crumbs, table_rows):
    client = dash_app.server.test_client()
    role = {2: "province_leader", 4: "city_official", 6: "county_official"}[len(region)]
    name = login(client, role, region)
    before = last_audit_id()
    resp = _overview(client, dash_app, state)
    crumb = [t for t in _texts(resp["overview-breadcrumb"]["children"]) if t.strip()]
    assert crumb == crumbs
    table = " ".join(_texts(resp["overview-table"]["children"]))
    for row in table_rows:
        assert row in table
    text = json.dumps(resp, ensure_ascii=False)
    assert_nothing_outside(text, Scope(normalize_code(region)),
                           {state["region"]} if CODE_RE.fullmatch(str(state["region"])) else set(), "overview")
    if not Scope(normalize_code(region)).allows(C3):
        assert "衡南县" not in text and C3 not in text
    refused = audit_rows_since(before, username=name, action="refused")
    inside = Scope(normalize_code(region)).allows(state["region"])
    assert bool(refused) == (not inside and CODE_RE.fullmatch(str(state["region"])) is not None)
    if refused:
        assert state["region"] in refused[0]["detail"] and "out_of_scope" in refused[0]["detail"]


def test_overview_figures_are_the_scopes_own(dash_app):
    """A county official forging the other county gets its own county's totals: 10 people x 2 months x 500."""
    client = dash_app.server.test_client()
    login(client, "county_official", "430421")
    own = _overview(client, dash_app, {"region": None})
    forged = _overview(client, dash_app, {"region": C3})
    assert json.dumps(own["overview-kpis"]) == json.dumps(forged["overview-kpis"])
    kpis = _texts(own["overview-kpis"]["children"])
    paid = kpis.index("发放到户")
    assert kpis[paid + 1: paid + 3] == ["1.0 万元", "20 笔"]
    leader = dash_app.server.test_client()
    login(leader, "province_leader", "43")
    kpis = _texts(_overview(leader, dash_app, {"region": None})["overview-kpis"]["children"])
    assert kpis[kpis.index("发放到户") + 1: kpis.index("发放到户") + 3] == ["2.0 万元", "40 笔"]


def test_overview_navigation_refuses_a_forged_click(dash_app):
    client = dash_app.server.test_client()
    login(client, "county_official", "430421")
    out = next(k for k, spec in server_callbacks(dash_app)
               if any(getattr(d["id"], "value", d["id"]) == "overview-top" for d in spec["inputs"]))
    spec = dash_app.callback_map[out]

    def click(code):
        def value(dep):
            if dep["property"] == "clickData" and getattr(dep["id"], "value", dep["id"]) == "overview-top":
                return {"points": [{"customdata": code}]}
            if dep["property"] == "data":
                return {"region": None}
            return None
        body = callback_body(out, spec, value)
        body["changedPropIds"] = ["overview-top.clickData"]
        return post_callback(client, body)

    r = click(C3)                                    # no_update: the URL does not move out of the scope
    assert r.status_code in (200, 204) and C3 not in r.get_data(as_text=True)
    assert r.status_code == 204 or r.get_json()["response"] == {}
    r = click(T1)
    assert r.status_code == 200 and r.get_json()["response"]["state-url"]["search"] == f"?region={T1}"


# --- the audit page ------------------------------------------------------------------------------
def _audit(client, dash_app, action=None, user=None, result=None, start=None, end=None):
    out = next(k for k, _ in server_callbacks(dash_app) if "audit-grid" in k)
    values = {"audit-action": action, "audit-user": user, "audit-result": result}
    dates = {"start_date": start, "end_date": end}

    def value(dep):
        ident = getattr(dep["id"], "value", dep["id"])
        return dates[dep["property"]] if ident == "audit-dates" else values[ident]
    r = post_callback(client, callback_body(out, dash_app.callback_map[out], value))
    assert r.status_code == 200
    return r.get_json()["response"]["audit-grid"]["rowData"]


@pytest.mark.parametrize("role,region", [("province_leader", "43"), ("city_official", "4304"),
                                         ("county_official", "430421"), ("analyst", "430421"),
                                         ("complaint_officer", "43")])
def test_audit_log_is_for_administrators_only(dash_app, role, region):
    client = dash_app.server.test_client()
    name = login(client, role, region, pii=role == "analyst")
    before = last_audit_id()
    assert _audit(client, dash_app) == []
    assert _audit(client, dash_app, action="login") == []
    refused = audit_rows_since(before, username=name, action="refused")
    assert len(refused) == 2 and refused[0]["target"] == "audit_log"


def test_audit_log_for_an_administrator(dash_app):
    admin = dash_app.server.test_client()
    admin_name = login(admin, "admin", None)
    other = dash_app.server.test_client()
    other_name = login(other, "county_official", "430421")
    other.post("/logout", headers={"Origin": "http://localhost"})
    rows = _audit(admin, dash_app)
    assert rows and {"at", "username", "action", "target", "result"} <= set(rows[0])
    mine = [r for r in rows if r["username"] == other_name]
    assert {r["action"] for r in mine} >= {"登录", "退出登录"}                    # the codes as words
    logins = _audit(admin, dash_app, action="login", user=other_name)
    assert [r["action"] for r in logins] == ["登录"] and logins[0]["result"] == "成功"
    admin.get("/lang/en")
    logins = _audit(admin, dash_app, action="login", user=other_name)
    assert [r["action"] for r in logins] == ["Sign-in"] and logins[0]["result"] == "OK"
    assert _audit(admin, dash_app, user="%") == []                              # LIKE wildcards are literal
    assert _audit(admin, dash_app, action="login", result="denied", user=admin_name) == []
    today = dt.datetime.now(dt.timezone.utc).date()
    assert _audit(admin, dash_app, user=other_name, start=str(today - dt.timedelta(days=1)), end=str(today))
    assert _audit(admin, dash_app, user=other_name, start="2001-01-01", end="2001-01-02") == []
    # the admin sees who did what, never data: no full ID numbers, no complainants
    text = json.dumps(rows, ensure_ascii=False)
    assert not full_id_numbers(text) and not [m for m in COMPLAINANT_MARKERS[2:] if m in text]


@pytest.mark.parametrize("role,region,visible", [("admin", None, True), ("county_official", "430421", False),
                                                 ("province_leader", "43", False)])
def test_audit_page_layout(dash_app, role, region, visible):
    out = next(k for k, _ in server_callbacks(dash_app) if "_pages_content" in k)
    client = dash_app.server.test_client()
    name = login(client, role, region)
    before = last_audit_id()
    body = callback_body(out, dash_app.callback_map[out],
                         lambda d: "/audit" if d["property"] == "pathname" else "")
    text = post_callback(client, body).get_data(as_text=True)
    assert ("audit-grid" in text) == visible
    assert bool(audit_rows_since(before, username=name, action="refused")) == (not visible)


# --- masking -------------------------------------------------------------------------------------
IDN = make_id("430421", dt.date(1962, 3, 9), 123)


@pytest.mark.parametrize("value,masked", [
    (IDN, IDN[:3] + "*" * 11 + IDN[-4:]),
    ("43042119620309123X", "430***********123X"),
    ("4304211962", "430***1962"),
    ("123", "***"),
    (None, None),
    ("", ""),
])
def test_mask_id(value, masked):
    out = mask_id(value)
    assert out == masked
    if value and len(value) == 18:
        assert len(out) == 18 and re.fullmatch(r"\d{3}\*{11}[\dX]{4}", out) and not is_valid(out)


@pytest.mark.parametrize("value,masked", [("张三", "张*"), ("欧阳修", "欧**"), ("李", "李*"), ("", ""), (None, None),
                                          ("Smith", "S****")])
def test_mask_name(value, masked):
    assert mask_name(value) == masked


@pytest.mark.parametrize("text,found", [
    (f'{{"id": "{IDN}"}}', [IDN]),
    (f"x{IDN}", []),                                  # glued to letters: not a token
    (IDN[:-1] + ("0" if IDN[-1] != "0" else "1"), []),   # wrong check digit
    (mask_id(IDN), []),
    (f"{IDN} and {IDN.lower()}", [IDN, IDN.lower()]),
])
def test_full_id_detection(text, found):
    assert full_id_numbers(text) == found


# --- the response filter (defence in depth behind data_access) -----------------------------------
def _viewer(role, region, pii=False):
    user = {"id": 999999, "username": f"t_{role}", "role": role, "region_code": region, "pii": pii,
            "person_id": None}
    return auth.viewer_for(user)


@pytest.mark.parametrize("role,pii,payload,status,action,leaks", [
    ("analyst", False, {"grid": {"rowData": [{"id_number": IDN}]}}, 200, "pii_masked", False),
    ("analyst", True, {"grid": {"rowData": [{"id_number": IDN}]}}, 200, "view_pii", True),
    ("county_official", False, {"grid": {"rowData": [{"complaint_id": "Q1", "complainant_name": "x"}]}}, 403,
     "refused", False),
    ("complaint_officer", False, {"grid": {"rowData": [{"complaint_id": "Q1", "summary": "s",
                                                        "complainant_name": "x"}]}}, 200, "view_complaint", False),
    ("city_official", False, {"dl": {"data": {"filename": "clues.csv", "content": "a,b\n", "base64": False}}}, 200,
     "export", False),
    ("city_official", False, {"grid": {"rowData": [{"amount": 123456789012345678}]}}, 200, None, False),
])
def test_response_filter(dash_app, role, pii, payload, status, action, leaks):
    import flask
    server = dash_app.server
    before = last_audit_id()
    body = {"multi": True, "response": payload}
    with server.test_request_context("/_dash-update-component", method="POST", json={"output": "x.children"}):
        flask.g.viewer = _viewer(role, "430421000000", pii)
        resp = server.process_response(flask.Response(json.dumps(body), mimetype="application/json"))
        text = resp.get_data(as_text=True)
    assert resp.status_code == status
    assert (IDN in text) == leaks
    if IDN in json.dumps(payload) and not leaks:
        assert mask_id(IDN) in text
    rows = audit_rows_since(before)
    assert [r["action"] for r in rows] == ([action] if action else [])
    if action == "view_complaint":
        assert "Q1" in rows[0]["detail"]
    if action == "export":
        assert rows[0]["target"] == "clues.csv"
    assert IDN not in " ".join(str(r) for r in rows)


# --- no personal data in browser storage ---------------------------------------------------------
def _layouts(dash_app, role, region):
    import dash
    import flask
    from app import serve_layout
    viewer = _viewer(role, region)
    with dash_app.server.test_request_context("/"):
        flask.g.viewer = viewer
        yield "shell", serve_layout()
        for page in dash.page_registry.values():
            layout = page["layout"]
            yield page["path"], layout() if callable(layout) else layout


@pytest.mark.parametrize("role,region", [("province_leader", "430000000000"), ("analyst", "430421000000"),
                                         ("complaint_officer", "430421000000"), ("admin", None)])
def test_no_personal_data_in_browser_storage(dash_app, role, region):
    """Every page's stores live in memory (gone at logout); nothing persists to local or session storage."""
    from dash import dcc
    n = 0
    for path, layout in _layouts(dash_app, role, region):
        for comp in [layout, *layout._traverse()] if hasattr(layout, "_traverse") else [layout]:
            if isinstance(comp, dcc.Store):
                assert getattr(comp, "storage_type", "memory") in (None, "memory"), (path, comp.id)
                n += 1
            if getattr(comp, "persistence", None):
                assert getattr(comp, "persistence_type", "local") == "memory", (path, getattr(comp, "id", None))
    assert n >= 1


def test_logout_clears_the_page(dash_app):
    client = dash_app.server.test_client()
    login(client, "county_official", "430421")
    r = client.post("/logout", headers={"Origin": "http://localhost"})
    assert '"storage"' in r.headers["Clear-Site-Data"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert '<script src="/login.js"></script>' in page
    js = client.get("/login.js").get_data(as_text=True)
    assert "localStorage.clear()" in js and "sessionStorage.clear()" in js


# --- scope plumbing: pii, complaints, the viewer's own ID number, caches ---------------------------
def test_session_scope_carries_grants_and_person_id(app_db):
    from tests.package_factory import person
    idn = person("430421", 7)
    name = f"official_{idn[-4:]}_{dt.datetime.now().microsecond}"
    auth.create_user(get_engine(), name, "county_official", region_code="430421", person_id=idn)
    scope = auth.viewer_for(auth.get_user(get_engine(), name)).scope
    assert scope == Scope(C1, pii=False, complaints=False, person_id=idn)
    with pytest.raises(ValueError):
        auth.set_scope(get_engine(), name, person_id=idn[:-1] + "0" if idn[-1] != "0" else idn[:-1] + "1")
    assert auth.list_users(get_engine()) and all(
        u["person_id"] is None or not is_valid(u["person_id"]) for u in auth.list_users(get_engine()))


def test_cache_is_keyed_by_the_whole_scope(tmp_path, monkeypatch):
    from data_access.cache import memoize
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "c"))
    calls = []

    @memoize
    def probe(scope):
        calls.append(scope)
        return (scope.region_code, scope.pii, scope.complaints)

    scopes = [Scope(C1), Scope(C1, pii=True), Scope(C1, complaints=True), Scope(C1, person_id=IDN), Scope(C3)]
    assert [probe(s) for s in scopes] == [probe(s) for s in scopes]
    assert calls == scopes                                    # one computation per distinct scope
