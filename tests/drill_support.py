"""Helpers for the drill-down page tests (village, project, household): call a page's callbacks
through the Flask test client exactly as the browser does, and read exports back."""
from __future__ import annotations

import base64
import io
import json

import pandas as pd

from tests.conftest import dash_post, login  # noqa: F401  (re-exported for the page tests)


def output_key(app, output: str, input_id: str | None = None) -> str:
    """The callback-map key of the callback writing ``output`` (and, when given, reading ``input_id``)."""
    for key, cb in app.callback_map.items():
        if output not in key.split("@")[0]:
            continue
        if input_id is None or any(str(getattr(i["id"], "value", i["id"])) == input_id for i in cb["inputs"]):
            return key
    raise KeyError((output, input_id))


def outputs_of(key: str):
    multi = key.startswith("..")
    k = key.split("@")[0].strip(".")
    parts = [p for p in k.split("...")] if k.count("...") else [k]
    out = []
    for p in parts:
        p = p.strip(".")
        cid, prop = p.rsplit(".", 1)
        out.append({"id": json.loads(cid) if cid.startswith("{") else cid, "property": prop})
    return out if multi else out[0]


def call(client, app, key: str, inputs: list[dict], state: list[dict] | None = None, changed: list[str] | None = None):
    """POST one callback; returns (status, response dict keyed by component id, raw text)."""
    r = dash_post(client, key, inputs, state, changed=changed, outputs=outputs_of(key))
    text = r.get_data(as_text=True)
    if r.status_code != 200:
        return r.status_code, {}, text
    body = json.loads(text)
    return 200, body.get("response", {}), text


def render(client, app, first_output: str, store_id: str, state: dict):
    return call(client, app, output_key(app, first_output), [{"id": store_id, "property": "data", "value": state}])


def export(client, app, page: str, table: str, fmt: str, state: list[dict]):
    """Click a page's export button; returns (status, DataFrame or None, raw text)."""
    bid = {"type": f"{page}-export", "table": table, "fmt": fmt}
    changed = [json.dumps(bid, sort_keys=True, separators=(",", ":")) + ".n_clicks"]
    key = output_key(app, f"{page}-download.data")
    status, resp, text = call(client, app, key, [[{"id": bid, "property": "n_clicks", "value": 1}]], state, changed)
    if status != 200:
        return status, None, text
    if f"{page}-download" not in resp:          # no_update: nothing to download
        return 200, None, text
    data = resp[f"{page}-download"]["data"]
    if data.get("base64"):
        return 200, pd.read_excel(io.BytesIO(base64.b64decode(data["content"])), dtype=str), text
    return 200, pd.read_csv(io.StringIO(data["content"].lstrip("\ufeff")), dtype=str), text


def audit_actions(app, since_id: int = 0) -> list[tuple]:
    """(action, target) rows of the app's audit log after ``since_id``."""
    from sqlalchemy import select

    from core.auth_schema import audit_log as A
    with app.server.extensions["auth_engine"].connect() as conn:
        return [(r.action, r.target) for r in conn.execute(select(A.c.action, A.c.target).where(A.c.id > since_id))]


def last_audit_id(app) -> int:
    from sqlalchemy import func, select

    from core.auth_schema import audit_log as A
    with app.server.extensions["auth_engine"].connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(A.c.id), 0))).scalar())
