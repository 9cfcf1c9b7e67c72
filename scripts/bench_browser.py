"""`python manage.py bench browser`: headless Chromium opens every data page of the database and
times how long until every graph is drawn (and Dash has no callback in flight), and, on a page with
tabs, how long each other tab takes from its click until its graphs are drawn; also the size of the
map page's payload, gzipped. Runs against --database-url (default: DATABASE_URL)."""
from __future__ import annotations

import gzip
import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path


def bench_browser(args) -> int:
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("CACHE_DIR", str(Path(tempfile.mkdtemp(prefix="bench-browser-")) / "cache"))
    import logging

    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    import app as appmod
    from scripts.bench_dashboard import _pct
    from scripts.dash_session import DashSession, data_pages
    from tests.browser import _driver
    dash_app = appmod.app
    engine = dash_app.server.extensions["auth_engine"]
    srv = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    port = srv.server_port
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"

    # the map's payload: every response of opening the page, gzipped
    s = DashSession(dash_app, dash_app.server.test_client())
    s.login_new_user(engine, "province_leader", "430000000000")
    map_bytes = sum(len(gzip.compress(c.body)) for c in s.open_page("/map")) if s.page_for("/map") else None

    from core.auth import create_user
    name = f"bench_{secrets.token_hex(3)}"
    pw = create_user(engine, name, "province_leader", region_code="430000000000")
    d = _driver()
    d.get(f"{base}/login")
    d.find_element("name", "username").send_keys(name)
    d.find_element("name", "password").send_keys(pw)
    d.find_element("css selector", "form button[type=submit]").click()
    time.sleep(1)
    # drawn = every callback POST the renderer has sent has been answered (counted by a fetch wrapper
    # installed before the page's scripts, against the resource timings of the answers; at least as
    # many as the page fires on load, since before the first one leaves an empty graph already has its
    # svg and nothing is loading), nothing is loading any more, and every graph has its svg
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.__dashSent = 0;
        const f = window.fetch;
        window.fetch = function (...a) {
            if (String((a[0] && a[0].url) || a[0]).includes('_dash-update-component')) window.__dashSent++;
            return f.apply(this, a);
        };"""})
    drawn = """
        const answered = performance.getEntriesByType('resource')
            .filter(e => e.name.includes('_dash-update-component') && e.responseEnd > 0).length;
        const sent = window.__dashSent || 0;
        const gs = Array.from(document.querySelectorAll('.dash-graph'));
        return sent >= arguments[0] && answered >= sent && document.readyState === 'complete'
               && !document.querySelector('[data-dash-is-loading="true"]')
               && gs.every(g => g.querySelector('.main-svg') !== null);
    """
    def wait_drawn(t0: float, expected: int = 0) -> float:
        while True:
            time.sleep(0.02)
            try:
                ready = d.execute_script(drawn, expected)
            except Exception:
                ready = False
            if ready or time.perf_counter() - t0 > 30:
                return time.perf_counter() - t0

    expected = {page: len(s.initial_bodies(page)) for page in data_pages()}   # callbacks fired on load
    times: dict[str, list[float]] = {}
    tabs: dict[str, list[float]] = {}      # a page's other tabs (dcc.Tabs): click -> every graph of it drawn
    for _round in range(args.rounds):
        for page in data_pages():
            t0 = time.perf_counter()
            d.get(base + page)
            times.setdefault(page, []).append(wait_drawn(t0, expected[page]))
            n_tabs = len(d.find_elements("css selector", "[id$='-tabs'] .tab"))
            for i in range(1, n_tabs):
                tab = d.find_elements("css selector", "[id$='-tabs'] .tab")[i]
                label = f"{page} [{tab.text or i}]"
                t0 = time.perf_counter()
                tab.click()
                tabs.setdefault(label, []).append(wait_drawn(t0))
    d.quit()
    srv.shutdown()
    all_t = [x for v in times.values() for x in v]
    out = {"bench": "browser", "database": engine.dialect.name, "rounds": args.rounds,
           "pages": {p: {"p50_s": round(_pct(v, 0.5), 2), "max_s": round(max(v), 2)} for p, v in times.items()},
           "callbacks_on_load": expected,
           "p95_s": round(_pct(all_t, 0.95), 2), "target_p95_s": 1.5,
           "tab_switches": {p: {"p50_s": round(_pct(v, 0.5), 2), "max_s": round(max(v), 2)} for p, v in tabs.items()},
           "tab_switch_p95_s": round(_pct([x for v in tabs.values() for x in v], 0.95), 2) if tabs else None,
           "map_payload_gzip_kb": round(map_bytes / 1024, 1) if map_bytes else None, "target_map_kb": 500}
    print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 2))
    return 0
