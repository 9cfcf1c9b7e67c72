"""Hardening of the HTTP surface, found by walking the app rather than by listing it: every Flask
route and every entry of ``app.callback_map`` (pages written later are covered automatically) is
refused without a session; security headers; same-origin POSTs; generic errors; the secret key;
no debug; no raw HTML; the audit trail is append-only on SQLite and PostgreSQL; logs are masked."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
SAME = {"Origin": "http://localhost", "Referer": "http://localhost/"}


# --- helpers shared with test_auth.py and test_privacy.py -----------------------------------------
@pytest.fixture(scope="module", autouse=True)
def cheap_argon2():
    """argon2id at its smallest cost while these tests create and log in dozens of users (the
    production parameters are checked in test_auth.py::test_hashes_are_argon2id_and_salted)."""
    from argon2 import PasswordHasher
    from core import passwords
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    dummy = cheap.hash("dummy-password-for-unknown-users")
    original = passwords._hasher
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passwords, "_hasher", cheap)
        mp.setattr(passwords, "_dummy_hash", lambda: dummy)
        yield original


def split_output(output: str) -> list[dict]:
    """The ``outputs`` of a callback request, from its callback_map key (as dash-renderer sends them)."""
    multi = output.startswith("..") and output.endswith("..")
    parts = output[2:-2].split("...") if multi else [output]
    out = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        if ident.startswith("{"):
            ident = json.loads(ident)
        out.append({"id": ident, "property": prop})
    return out


def callback_body(output: str, spec: dict, value_for) -> dict:
    """A request body for one callback_map entry; ``value_for(dep)`` gives each input/state value."""
    def deps(items):
        res = []
        for d in items:
            ident = d["id"]
            if isinstance(ident, str) and ident.startswith("{"):
                ident = json.loads(ident)
            ident = getattr(ident, "value", ident)
            res.append({"id": ident, "property": d["property"], "value": value_for(d)})
        return res
    outs = split_output(output)
    inputs = deps(spec.get("inputs", []))
    return {"output": output, "outputs": outs if len(outs) > 1 else outs[0], "inputs": inputs,
            "state": deps(spec.get("state", [])), "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs
                                                                      if isinstance(i["id"], str)][:1]}


def post_callback(client, body: dict, headers=SAME):
    return client.post("/_dash-update-component", json=body, headers=headers)


def route_urls(server) -> list[tuple[str, str, str]]:
    """(rule, method, url) for every Flask route, path variables filled with harmless values."""
    fill = {"filename": "app.css", "path": "audit", "code": "en", "package_name": "dash",
            "fingerprinted_path": "dash-renderer/build/dash_renderer.v4_4_1m1.min.js"}
    out = []
    for rule in server.url_map.iter_rules():
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", fill.get(arg, "x"), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.rule, method, url))
    return out


def audit_rows_since(last_id: int, **filters) -> list[dict]:
    from core.auth_schema import audit_log as A
    from core.db import get_engine
    stmt = select(A).where(A.c.id > last_id).order_by(A.c.id)
    for k, v in filters.items():
        stmt = stmt.where(A.c[k] == v)
    with get_engine().connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def last_audit_id() -> int:
    from sqlalchemy import func
    from core.auth_schema import audit_log as A
    from core.db import get_engine
    with get_engine().connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(A.c.id), 0))).scalar())


# --- without a session: every route, every callback ----------------------------------------------
def test_every_route_is_refused_without_a_session(dash_app):
    from core.security import PUBLIC_PATHS
    client = dash_app.server.test_client()
    checked = 0
    for rule, method, url in route_urls(dash_app.server):
        if url in PUBLIC_PATHS or rule in PUBLIC_PATHS:
            continue
        r = client.open(url, method=method, headers=SAME)
        if r.status_code in (302, 303):          # HTML pages (and /logout) send the browser to the login form
            assert r.headers["Location"].startswith("/login"), (rule, method)
        else:
            assert r.status_code == 401, (rule, method, r.status_code)
            assert r.get_json() == {"error": "authentication required"}, (rule, method)
        checked += 1
    assert checked >= 10          # the walk really walked (Dash's own routes, ours, pages)


def test_public_paths_carry_no_data(dash_app):
    client = dash_app.server.test_client()
    for path in ("/login", "/login.js"):
        r = client.get(path)
        assert r.status_code == 200
        body = r.get_data(as_text=True)
        assert "430421" not in body and "衡阳" not in body


def test_every_callback_is_refused_without_a_session(dash_app):
    client = dash_app.server.test_client()
    client.get("/login")                              # Dash fills the callback map on the first request
    before = last_audit_id()
    n = 0
    for i, output in enumerate(list(dash_app.callback_map)):
        body = callback_body(output, dash_app.callback_map[output], lambda d: "430421000000")
        # one address per callback: each refusal is written on its own (the flood cap is per address)
        r = client.post("/_dash-update-component", json=body, headers=SAME,
                        environ_base={"REMOTE_ADDR": f"10.9.{i // 250}.{i % 250 + 1}"})
        assert r.status_code == 401, output
        assert r.get_json() == {"error": "authentication required"}, output
        n += 1
    assert n == len(dash_app.callback_map) and n >= 4
    refused = audit_rows_since(before, action="refused", result="denied")
    assert len(refused) == n and all(row["target"] == "/_dash-update-component" for row in refused)


def test_a_flood_of_refusals_does_not_flood_the_audit_log(dash_app, monkeypatch):
    """Requests without a session cost nothing to send: per address and action, the first
    ANON_BUDGET refusals of a window are written, the rest become one audit_suppressed row."""
    from core import audit
    clock = [1000.0]
    monkeypatch.setattr(audit, "_clock", lambda: clock[0])
    monkeypatch.setattr(audit, "_anon", {})
    client = dash_app.server.test_client()
    output = next(iter(dash_app.callback_map))
    body = callback_body(output, dash_app.callback_map[output], lambda d: None)
    before = last_audit_id()
    for _ in range(audit.ANON_BUDGET + 70):
        r = client.post("/_dash-update-component", json=body, headers=SAME, environ_base={"REMOTE_ADDR": "10.7.7.7"})
        assert r.status_code == 401
    # another address keeps its own budget
    r = client.post("/_dash-update-component", json=body, headers=SAME, environ_base={"REMOTE_ADDR": "10.7.7.8"})
    assert r.status_code == 401
    rows = audit_rows_since(before, action="refused")
    assert [r["remote_addr"] for r in rows].count("10.7.7.7") == audit.ANON_BUDGET
    assert [r["remote_addr"] for r in rows].count("10.7.7.8") == 1
    assert not audit_rows_since(before, action="audit_suppressed")
    # the window passes: the next refusal (from anywhere) writes the count of what was left out
    clock[0] += audit.ANON_WINDOW + 1
    client.post("/_dash-update-component", json=body, headers=SAME, environ_base={"REMOTE_ADDR": "10.7.7.9"})
    summary = audit_rows_since(before, action="audit_suppressed")
    assert len(summary) == 1 and summary[0]["remote_addr"] == "10.7.7.7" and summary[0]["target"] == "refused"
    assert json.loads(summary[0]["detail"])["suppressed"] == 70
    # a signed-in user's refusals are never capped
    login(client, "county_official", "430421")
    spec = dash_app.callback_map
    out = next(k for k in spec if "overview-kpis" in k)
    mark = last_audit_id()
    for _ in range(audit.ANON_BUDGET + 5):
        post_callback(client, callback_body(out, spec[out], lambda d: {"region": "430422000000"}))
    assert len(audit_rows_since(mark, action="refused")) == audit.ANON_BUDGET + 5


def test_a_forged_or_stale_cookie_is_refused(dash_app):
    client = dash_app.server.test_client()
    client.set_cookie("sid", "not-a-session")
    r = client.get("/_dash-layout")
    assert r.status_code == 401
    assert "sid=;" in r.headers.get("Set-Cookie", "")     # the bad cookie is cleared


# --- same origin ---------------------------------------------------------------------------------
@pytest.mark.parametrize("headers,ok", [
    ({"Origin": "http://localhost"}, True),
    ({"Referer": "http://localhost/some/page"}, True),
    ({"Origin": "http://evil.example"}, False),
    ({"Origin": "null"}, False),
    ({"Referer": "http://evil.example/"}, False),
    ({"Origin": "http://localhost.evil.example"}, False),
    ({"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"}, False),
    ({}, False),
])
def test_callback_posts_only_same_origin(dash_app, headers, ok):
    client = dash_app.server.test_client()
    login(client, "county_official", "430421")
    spec = dash_app.callback_map
    output = next(k for k in spec if "overview-kpis" in k)
    before = last_audit_id()
    r = post_callback(client, callback_body(output, spec[output], lambda d: {"region": None}), headers=headers)
    if ok:
        assert r.status_code == 200
    else:
        assert r.status_code == 403
        assert audit_rows_since(before, action="refused_origin")


def test_login_post_needs_same_origin(dash_app):
    client = dash_app.server.test_client()
    r = client.post("/login", data={"username": "x", "password": "y"}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


# --- headers -------------------------------------------------------------------------------------
EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@pytest.mark.parametrize("path,method,logged_in,no_store", [
    ("/login", "GET", False, True),
    ("/", "GET", False, True),               # the redirect too
    ("/", "GET", True, True),
    ("/_dash-layout", "GET", True, True),
    ("/_dash-update-component", "POST", True, True),
    ("/assets/app.css", "GET", True, False),
])
def test_security_headers(dash_app, path, method, logged_in, no_store):
    client = dash_app.server.test_client()
    if logged_in:
        login(client, "city_official", "4304")
    body = None
    if method == "POST":
        output = next(k for k in dash_app.callback_map if "overview-kpis" in k)
        body = callback_body(output, dash_app.callback_map[output], lambda d: {})
    r = client.open(path, method=method, json=body, headers=SAME)
    for k, v in EXPECTED_HEADERS.items():
        assert r.headers.get(k) == v, (path, k)
    csp = r.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"):
        assert directive in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]     # scripts: self + hashes only
    assert ("no-store" in r.headers.get("Cache-Control", "")) == no_store
    assert "Strict-Transport-Security" not in r.headers                              # plain HTTP


def test_https_adds_hsts_and_secure_cookies(dash_app):
    from core.auth import create_user
    from core.db import get_engine
    client = dash_app.server.test_client()
    r = client.get("/login", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    pw = create_user(get_engine(), "https_user", "analyst", region_code="430421")
    r = client.post("/login", data={"username": "https_user", "password": pw}, base_url="https://localhost",
                    headers={"Origin": "https://localhost"})
    cookie = r.headers["Set-Cookie"]
    assert r.status_code == 302
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_index_page_scripts_match_the_csp(dash_app):
    """Every inline script of Dash's index page is admitted by the CSP hash list (else the app would not start)."""
    import base64
    import hashlib
    client = dash_app.server.test_client()
    login(client, "city_official", "4304")
    r = client.get("/")
    html_ = re.sub(r"<!--.*?-->", "", r.get_data(as_text=True), flags=re.S)   # IE conditional comments run nowhere
    csp = r.headers["Content-Security-Policy"]
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html_, re.S)
    assert inline
    for script in inline:
        digest = "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        assert digest in csp


# --- errors, debug, raw HTML ---------------------------------------------------------------------
def test_errors_reach_the_browser_without_traces(dash_app):
    client = dash_app.server.test_client()
    login(client, "county_official", "430421")
    output = next(k for k in dash_app.callback_map if "overview-kpis" in k)
    # a store holding a string instead of a dict makes the callback raise
    r = post_callback(client, callback_body(output, dash_app.callback_map[output], lambda d: ["not", "a", "dict"]))
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert r.get_json() == {"error": "服务器内部错误", "status": 500}
    for leak in ("Traceback", "File \"", "AttributeError", "/work", "site-packages", "SELECT", "sqlalchemy"):
        assert leak not in body
    r = client.get("/no/such/page.php", headers={"Accept": "text/html"})
    assert "Traceback" not in r.get_data(as_text=True)


def test_debug_is_off(dash_app):
    assert dash_app.server.debug is False
    assert not dash_app._dev_tools.get("ui")


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY",)}
    env.update(APP_ENV="production", DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite'}",
               CACHE_DIR=str(tmp_path / "cache"))
    p = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode != 0
    assert "InsecureConfiguration" in p.stderr and "SECRET_KEY is not set" in p.stderr
    assert not (tmp_path / "secret_key").exists()        # no key was invented in production


@pytest.mark.parametrize("env,key,outcome", [
    ("production", None, "refuse"),
    ("production", "x" * 31, "refuse"),
    ("production", "k" * 48, "use"),
    ("development", None, "persisted"),
    ("test", "short", "use"),
])
def test_secret_key_resolution(tmp_path, monkeypatch, env, key, outcome):
    from core.auth import InsecureConfiguration, resolve_secret_key
    from core.settings import Settings
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = Settings(secret_key=key, env=env)
    if outcome == "refuse":
        with pytest.raises(InsecureConfiguration):
            resolve_secret_key(settings)
    elif outcome == "use":
        assert resolve_secret_key(settings) == key
    else:
        first = resolve_secret_key(settings)
        assert len(first) >= 32 and resolve_secret_key(settings) == first
        assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def _source_files():
    for folder in ("app.py", "pages", "callbacks", "components", "core", "data_access"):
        p = ROOT / folder
        yield from ([p] if p.is_file() else sorted(p.rglob("*.py")))


def test_no_raw_html_anywhere():
    """No dangerously_allow_html (nor html.Iframe srcDoc, nor an ag-grid markdown renderer with raw HTML)."""
    files = list(_source_files())
    assert len(files) > 20
    for f in files:
        src = f.read_text(encoding="utf-8")
        for bad in ("dangerously_allow_html", "srcDoc", "dangerouslySetInnerHTML"):
            assert bad not in src, f"{f.relative_to(ROOT)} uses {bad}"


def test_text_from_data_renders_inert(dash_app):
    """A value that looks like markup is escaped on the server-rendered pages."""
    client = dash_app.server.test_client()
    evil = '"><script>alert(1)</script>'
    r = client.get("/login", query_string={"next": "/" + evil})
    body = r.get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize("target,expect", [
    ("/overview?region=1", "/overview?region=1"), ("//evil.example/", "/"), ("https://evil.example/", "/"),
    ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("/login", "/"), (None, "/"),
])
def test_next_is_a_local_path(target, expect):
    from core.auth import safe_next
    assert safe_next(target) == expect


def test_dash_is_pinned_at_least_4_4_1():
    import dash
    req = (ROOT / "requirements.txt").read_text()
    m = re.search(r"^dash(?:\[[^\]]*\])?\s*(==|>=)\s*([\d.]+)", req, re.M)
    assert m, "dash is not pinned in requirements.txt"
    version = tuple(int(x) for x in m.group(2).split("."))
    assert version >= (4, 4, 1)
    assert tuple(int(x) for x in dash.__version__.split(".")[:3]) >= (4, 4, 1)


# --- the audit trail is append-only --------------------------------------------------------------
def _append_only(url: str) -> None:
    from core.audit import log_event
    from core.auth_schema import create_auth_tables
    from core.db import get_engine
    eng = get_engine(url)
    create_auth_tables(eng)
    log_event("login", "alice", "ok", {"password": "hunter2hunter2", "id": "430421195001010011"}, engine=eng)
    with eng.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_log")).scalar()
        detail = conn.execute(text("SELECT detail FROM audit_log ORDER BY id DESC")).scalar()
    assert "hunter2" not in detail and "[redacted]" in detail
    attacks = ["UPDATE audit_log SET result = 'ok'", "DELETE FROM audit_log"]
    if eng.dialect.name == "postgresql":
        attacks.append("TRUNCATE audit_log")
    for sql in attacks:
        with pytest.raises(Exception, match="append-only"):
            with eng.begin() as conn:
                conn.execute(text(sql))
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == before


def test_audit_is_append_only_sqlite(tmp_path):
    _append_only(f"sqlite:///{tmp_path / 'audit.sqlite'}")


def test_audit_is_append_only_postgresql(pg_url):
    _append_only(pg_url)


def test_audit_is_append_only_for_an_unprivileged_app_role(pg_url):
    """The app's own role (not the owner) has no UPDATE/DELETE privilege at all: PostgreSQL refuses before the trigger."""
    import psycopg
    from core.auth_schema import create_auth_tables
    from core.db import get_engine
    create_auth_tables(get_engine(pg_url))
    role = "app_" + pg_url.rsplit("/", 1)[1][-8:]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        try:
            conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON audit_log TO "{role}"')  # even if a DBA grants it
            conn.execute(f'GRANT USAGE ON SEQUENCE audit_log_id_seq TO "{role}"')
            conn.execute(f'SET ROLE "{role}"')
            conn.execute("INSERT INTO audit_log (at, action, result) VALUES (now(), 'login', 'ok')")
            for sql in ("UPDATE audit_log SET result = 'x'", "DELETE FROM audit_log"):
                with pytest.raises(psycopg.Error, match="append-only|permission denied"):
                    conn.execute(sql)
            conn.execute("RESET ROLE")
        finally:
            conn.execute("RESET ROLE")
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


# --- logs ----------------------------------------------------------------------------------------
def test_logs_never_carry_a_full_id_number(caplog):
    from core.idnumber import make_id
    from core.security import install_log_redaction
    import datetime as dt
    install_log_redaction()
    idn = make_id("430421", dt.date(1960, 5, 4), 17)
    with caplog.at_level(logging.INFO):
        logging.getLogger("anything").info("looked up %s for %s", idn, "x")
        try:
            raise ValueError(f"bad row {idn}")
        except ValueError:
            logging.getLogger("anything").exception("failed")
    text_ = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert idn not in text_
    assert idn[:3] + "*" * 11 + idn[-4:] in text_
