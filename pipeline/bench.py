"""`python manage.py bench {generate,import,detect,pipeline}`: benchmarks that print their figures.

Each takes --json and then prints one JSON object. Benchmarks are not part of the test suite.
"""
from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident set size of this process and its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def _emit(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    for k, v in result.items():
        if isinstance(v, dict):
            print(f"{k}:")
            for k2, v2 in v.items():
                print(f"  {k2:<28} {v2}")
        else:
            print(f"{k:<30} {v}")


def bench_import(args) -> int:
    """Import a package (generated first when --package is not given) into a fresh database."""
    from core.db import get_engine
    from pipeline.importer import import_package
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    pkg = Path(args.package) if args.package else None
    if pkg is None:
        from pipeline.generator import generate
        pkg = work / "pkg"
        generate(scale=args.scale, seed=args.seed, out=pkg)
    url = args.database_url or f"sqlite:///{work / 'bench.sqlite'}"
    engine = get_engine(url)
    t0 = time.perf_counter()
    s = import_package(pkg, engine, run_detect=not args.no_detect)
    total = time.perf_counter() - t0
    rows = sum(r.read for r in s.tables.values() if r.present)
    load_secs = s.seconds.get("reading", 0) + s.seconds.get("validating", 0) + s.seconds.get("loading", 0)
    _emit({"bench": "import", "scale": args.scale, "database": engine.dialect.name, "rows": rows,
           "seconds_total": round(total, 2), "seconds": {k: round(v, 2) for k, v in s.seconds.items()},
           "validated_rows_per_s": round(rows / load_secs) if load_secs else None,
           "peak_rss_mb": round(peak_rss_mb(), 1)}, args.json)
    return 0


def bench_pipeline(args) -> int:
    """Generate, import, roll up and detect at --scale into a fresh database: seconds per stage, peak memory."""
    from core.db import create_schema, get_engine
    from pipeline.generator import generate
    from pipeline.importer import import_package
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    t0 = time.perf_counter()
    kw = {"city": args.city} if args.scale == "city" else {}
    generate(scale=args.scale, seed=args.seed, out=work / "pkg", **kw)
    gen_secs = time.perf_counter() - t0
    url = args.database_url or f"sqlite:///{work / 'bench.sqlite'}"
    engine = get_engine(url)
    create_schema(engine)
    t1 = time.perf_counter()
    s = import_package(work / "pkg", engine, run_detect=True)
    total = time.perf_counter() - t1
    rows = sum(r.read for r in s.tables.values() if r.present)
    _emit({"bench": "pipeline", "scale": args.scale, "database": engine.dialect.name, "rows": rows,
           "seconds_generate": round(gen_secs, 1),
           "seconds": {k: round(v, 1) for k, v in s.seconds.items()},
           "seconds_import_detect_rollups": round(total, 1), "target_seconds": 600,
           "peak_rss_mb": round(peak_rss_mb(), 1)}, args.json)
    return 0


def _route(module: str, func: str):
    def run(args):
        import importlib
        return getattr(importlib.import_module(module), func)(args)
    return run


def add_cli(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks that print their figures")
    bsub = p.add_subparsers(dest="bench", required=True)
    common = dict(scale=("--scale", dict(default="demo", choices=("demo", "city", "province"))))

    def add(name, func, help_):
        b = bsub.add_parser(name, help=help_)
        b.add_argument(*common["scale"][:1], **common["scale"][1])
        b.add_argument("--seed", type=int, default=1)
        b.add_argument("--json", action="store_true")
        b.add_argument("--database-url", default=None)
        b.add_argument("--city", default="4304")
        b.set_defaults(func=func)
        return b

    add("generate", _route("pipeline.generator", "bench_generate"), "generator rows/s and peak memory")
    bi = add("import", bench_import, "validated rows/s into the database and peak memory")
    bi.add_argument("--package", default=None, help="an existing package instead of generating one")
    bi.add_argument("--no-detect", action="store_true")
    add("detect", _route("pipeline.rules.cli", "bench_detect"), "time per rule and peak memory")
    bb = add("browser", _route("scripts.bench_browser", "bench_browser"),
             "headless Chromium: seconds until every graph of each page is drawn; map payload gzipped")
    bb.add_argument("--rounds", type=int, default=3)
    bl = add("load", _route("scripts.bench_load", "bench_load"), "locust on loopback: N analysts for T seconds")
    bl.add_argument("--users", type=int, default=50)
    bl.add_argument("--seconds", type=int, default=120)
    add("pipeline", bench_pipeline, "generate, import, roll-ups and detect: seconds per stage, peak memory")
    # the dashboard bench drives the Dash app: it lives outside pipeline/ (which never imports Dash)
    add("dashboard", _route("scripts.bench_dashboard", "bench_dashboard"),
        "p50/p95/max per page, cold and warm, against naive SQL and DuckDB; worker RSS")
    os.environ.setdefault("BENCH", "1")
