"""Every page on PostgreSQL: the drill-down package imported into a throwaway PostgreSQL database, then
every data page opened (as the browser would) by viewers at three levels. Each callback must answer
200 with real content, the same as on SQLite."""
from __future__ import annotations

import json

from scripts.dash_session import DashSession, data_pages
from tests.conftest import using_database

VIEWERS = [("province_leader", "430000000000"), ("county_official", "430421000000"), ("analyst", "430421100000")]
QUERIES = [{}, {"region": "430421100000"}, {"village": "430421100203"}, {"county": "430421000000"}]


def _open_everything(dash_app) -> dict[str, str]:
    texts: dict[str, str] = {}
    for role, region in VIEWERS:
        s = DashSession(dash_app, dash_app.server.test_client())
        s.login_new_user(dash_app.server.extensions["auth_engine"], role, region)
        for path in data_pages():
            for q in QUERIES:
                for call in s.open_page(path, q):
                    assert call.status in (200, 204), (role, path, q, call.output, call.body[:400])
                    texts[f"{role} {path} {json.dumps(q)} {call.output}"] = call.body.decode("utf-8", "replace")
    return texts


def test_every_page_answers_on_postgresql_as_on_sqlite(pg_url, dash_app, drill_db, tmp_path):
    from core.db import get_engine
    from data_access.cache import invalidate
    from pipeline.importer import import_package
    from tests import drilldown_factory
    drilldown_factory.build(tmp_path / "pkg")
    summary = import_package(tmp_path / "pkg", get_engine(pg_url))
    assert summary.package_id is not None
    invalidate()
    on_sqlite = _open_everything(dash_app)          # drill_db: the same package on SQLite
    with using_database(pg_url):
        invalidate()
        on_pg = _open_everything(dash_app)
    invalidate()
    assert set(on_pg) == set(on_sqlite)
    assert any("衡阳县" in body for body in on_pg.values())
    # the overview's KPI callback gives the same figures on both databases
    key = next(k for k in on_pg if k.startswith("county_official / {}") and "overview-kpis" in k)
    assert on_pg[key] == on_sqlite[key]
