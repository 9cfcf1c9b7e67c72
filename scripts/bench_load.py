"""`python manage.py bench load`: locust on loopback against the app under gunicorn (the Procfile's
2 workers x 4 threads): --users simulated analysts for --seconds, then errors and p50/p95 per page."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _failures(path: Path) -> list[dict]:
    """What failed, as locust counted it: method, name, error, occurrences."""
    import csv
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k.lower(): v for k, v in row.items()} for row in csv.DictReader(fh)]


def bench_load(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = dict(os.environ, SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_hex(32),
               CACHE_DIR=str(work / "cache"))
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    os.environ.update({k: env[k] for k in ("SECRET_KEY", "CACHE_DIR")})
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    import app as appmod
    from core.auth import create_user
    from scripts.dash_session import DashSession, data_pages
    dash_app = appmod.app
    engine = dash_app.server.extensions["auth_engine"]
    s = DashSession(dash_app, dash_app.server.test_client())
    s.login_new_user(engine, "analyst", "430000000000")
    bodies = {p: s.initial_bodies(p) for p in data_pages()}
    users = []
    for i in range(10):
        name = f"load_{i}_{secrets.token_hex(3)}"
        users.append([name, create_user(engine, name, "analyst", region_code="430000000000")])
    (work / "bodies.json").write_text(json.dumps(bodies, ensure_ascii=False, default=str), encoding="utf-8")
    (work / "users.json").write_text(json.dumps(users), encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--timeout", "120", "--keep-alive", "30",
                               "--bind", f"127.0.0.1:{port}", "app:server"], cwd=ROOT, env=env,
                              stdout=open(work / "server.log", "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except Exception:
                time.sleep(0.5)
        cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "scripts" / "locustfile.py"), "--headless",
               "-u", str(args.users), "-r", str(max(1, args.users // 10)), "-t", f"{args.seconds}s",
               "--host", f"http://127.0.0.1:{port}", "--json", "--only-summary", "--csv", str(work / "locust")]
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                             env=dict(env, BENCH_BODIES=str(work / "bodies.json"), BENCH_USERS=str(work / "users.json")))
    finally:
        server.terminate()
        server.wait(timeout=30)
    try:
        stats = json.loads(res.stdout)
    except json.JSONDecodeError:
        print(res.stdout[-2000:], res.stderr[-2000:], file=sys.stderr)
        return 1
    def pct(hist: dict, q: float):
        times = sorted((float(k), v) for k, v in hist.items())
        want, acc = q * sum(hist.values()), 0
        for t, c in times:
            acc += c
            if acc >= want:
                return t
        return None

    rows, everything = {}, {}
    total_req = total_fail = 0
    for st in stats:
        n, f = st["num_requests"], st["num_failures"]
        total_req += n
        total_fail += f
        hist = st.get("response_times", {})
        for k, v in hist.items():
            everything[k] = everything.get(k, 0) + v
        rows[st["name"]] = {"requests": n, "failures": f, "p50_ms": pct(hist, 0.5), "p95_ms": pct(hist, 0.95),
                            "max_ms": round(st.get("max_response_time") or 0, 1)}
    out = {"bench": "load", "users": args.users, "seconds": args.seconds, "requests": total_req,
           "failures": total_fail, "p95_ms": pct(everything, 0.95), "per_endpoint": rows,
           "server_log": str(work / "server.log"), "failure_kinds": _failures(work / "locust_failures.csv"), "target": "0 errors, p95 < 500 ms"}
    print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 2))
    return 0 if total_fail == 0 else 1
