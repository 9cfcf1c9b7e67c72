"""Drive the dashboard's callbacks the way a browser does, through the Flask test client.

For a page path and query, the page's layout function gives the components and their initial
properties; every callback whose inputs are all in that layout (and that fires on load) is POSTed
to /_dash-update-component with those values, exactly as the Dash renderer would on opening the
page. New pages and callbacks are covered without changes here. Used by `manage.py bench dashboard`
and by the test that no view scans the raw tables.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

HEADERS = {"Origin": "http://localhost", "Referer": "http://localhost/"}


def _id_key(i) -> str | None:
    if isinstance(i, dict):
        return None                     # pattern-matching ids: not driven here
    return str(getattr(i, "value", i))


def _walk(node, out: dict) -> None:
    """Collect {id: props} of every component in a layout tree."""
    if node is None or isinstance(node, (str, int, float)):
        return
    if isinstance(node, (list, tuple)):
        for n in node:
            _walk(n, out)
        return
    props = node.to_plotly_json().get("props", {}) if hasattr(node, "to_plotly_json") else {}
    cid = props.get("id")
    if cid is not None and _id_key(cid) is not None:
        out[_id_key(cid)] = props
    for k, v in props.items():
        if k == "id":
            continue
        if hasattr(v, "to_plotly_json") or isinstance(v, (list, tuple)):
            _walk(v, out)


def _spec_items(spec) -> list[dict]:
    return spec if isinstance(spec, list) else [spec]


@dataclass
class Call:
    page: str
    output: str
    status: int
    seconds: float
    size: int
    body: bytes = field(repr=False, default=b"")


class DashSession:
    """A logged-in browser session against the app, without a browser."""

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self._specs = None

    # --- log in ------------------------------------------------------------------------------------
    def login_new_user(self, engine, role: str, region: str | None, pii: bool = False,
                       person_id: str | None = None) -> str:
        from core.auth import create_user
        name = f"s_{role}_{uuid.uuid4().hex[:6]}"
        pw = create_user(engine, name, role, region_code=region, pii=pii, person_id=person_id)
        r = self.client.post("/login", data={"username": name, "password": pw},
                             headers={**HEADERS, "Referer": "http://localhost/login"})
        if r.status_code not in (200, 302, 303):
            raise RuntimeError(f"login failed: {r.status_code}")
        return name

    # --- the callback specs ----------------------------------------------------------------------
    def specs(self) -> list[dict]:
        if self._specs is None:
            r = self.client.get("/_dash-dependencies", headers=HEADERS)
            if r.status_code != 200:
                raise RuntimeError(f"/_dash-dependencies answered {r.status_code}")
            self._specs = r.get_json()
        return self._specs

    @staticmethod
    def page_for(path: str) -> dict | None:
        import dash
        for p in dash.page_registry.values():
            if p.get("path") == path:
                return p
        return None

    def initial_bodies(self, path: str, query: dict | None = None) -> list[dict]:
        """The POST bodies the renderer sends when ``path?query`` opens (callbacks firing on load)."""
        from flask import g
        page = self.page_for(path)
        if page is None:
            raise KeyError(f"no page at {path}")
        q = {k: str(v) for k, v in (query or {}).items() if v is not None}
        with self.app.server.test_request_context(path + ("?" + urlencode(q) if q else "")):
            g.viewer = None
            layout = page["layout"](**q) if callable(page["layout"]) else page["layout"]
        comps: dict[str, dict] = {}
        _walk(layout, comps)
        bodies = []
        for spec in self.specs():
            if spec.get("prevent_initial_call") or spec.get("clientside_function"):
                continue
            inputs = spec.get("inputs", [])
            if not inputs or any(str(i["id"]).startswith("{") for i in inputs):
                continue
            if not all(i["id"] in comps for i in inputs):
                continue
            states = spec.get("state", [])
            if not all(s["id"] in comps for s in states if not str(s["id"]).startswith("{")):
                continue
            out = spec["output"]
            if out.startswith(".."):
                outputs = [dict(id=o.rsplit(".", 1)[0], property=o.rsplit(".", 1)[1])
                           for o in out.strip(".").split("...")]
            else:
                outputs = dict(id=out.rsplit(".", 1)[0], property=out.rsplit(".", 1)[1])
            bodies.append({
                "output": out, "outputs": outputs,
                "inputs": [dict(id=i["id"], property=i["property"], value=comps[i["id"]].get(i["property"]))
                           for i in inputs],
                "state": [dict(id=s["id"], property=s["property"], value=comps[s["id"]].get(s["property"]))
                          for s in states],
                "changedPropIds": [],
            })
        return bodies

    def post(self, page: str, body: dict) -> Call:
        t0 = time.perf_counter()
        r = self.client.post("/_dash-update-component", json=body, headers=HEADERS)
        dt = time.perf_counter() - t0
        return Call(page, body["output"], r.status_code, dt, len(r.data), r.data)

    def open_page(self, path: str, query: dict | None = None) -> list[Call]:
        return [self.post(path, b) for b in self.initial_bodies(path, query)]


def data_pages() -> list[str]:
    """Paths of the registered pages that show data (not the administrator's pages)."""
    import dash
    return sorted(p["path"] for p in dash.page_registry.values()
                  if p.get("roles") is None or any(r != "admin" for r in (p.get("roles") or ())))
