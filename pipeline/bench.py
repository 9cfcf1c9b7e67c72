"""`python manage.py bench {generate,import,detect,pipeline}`: benchmarks that print their figures.

Each takes --json and then prints one JSON object. Benchmarks are not part of the test suite.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident set size of this process and its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


class StageMemory:
    """Peak resident memory per import stage: a sampling thread (psutil, every 0.1 s) and the importer's
    progress callback, which says which stage is running."""

    def __init__(self, interval: float = 0.1):
        import threading

        import psutil
        self.proc, self.interval, self.stage, self.peaks = psutil.Process(), interval, "start", {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        rss = self.proc.memory_info().rss / 2**20
        self.peaks[self.stage] = max(self.peaks.get(self.stage, 0.0), rss)

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def progress(self, stage: str, frac: float) -> None:
        if stage != self.stage:
            self._sample()
            self.stage = stage

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def result(self) -> dict:
        return {k: round(v, 1) for k, v in self.peaks.items()}


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
    try:
        t0 = time.perf_counter()
        with StageMemory() as mem:
            s = import_package(pkg, engine, run_detect=not args.no_detect, progress=mem.progress)
        total = time.perf_counter() - t0
    finally:
        engine.dispose()
        if not getattr(args, "keep", False):
            shutil.rmtree(work, ignore_errors=True)
    rows = sum(r.read for r in s.tables.values() if r.present)
    load_secs = s.seconds.get("reading", 0) + s.seconds.get("validating", 0) + s.seconds.get("loading", 0)
    until_commit = load_secs + s.seconds.get("rollups", 0)
    _emit({"bench": "import", "scale": None if args.package else args.scale, "package": str(pkg), "database": engine.dialect.name, "rows": rows,
           "seconds_total": round(total, 2), "seconds": {k: round(v, 2) for k, v in s.seconds.items()},
           # reading + validating + loading (the rows inside the open transaction, indexes built)
           "validated_rows_per_s": round(rows / load_secs) if load_secs else None,
           # ... plus roll-ups and the commit: rows per second until the import is visible
           "rows_per_s_until_commit": round(rows / until_commit) if until_commit else None,
           "peak_rss_mb": round(peak_rss_mb(), 1), "peak_rss_mb_by_stage": mem.result(),
           "staging": s.staging, "kept": str(work) if getattr(args, "keep", False) else None}, args.json)
    return 0


def bench_pipeline(args) -> int:
    """Generate, import, roll up and detect at --scale into a fresh database: seconds per stage, peak memory."""
    from core.db import create_schema, get_engine
    from pipeline.generator import generate
    from pipeline.importer import import_package
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        t0 = time.perf_counter()
        kw = {"city": args.city} if args.scale == "city" else {}
        gen = generate(scale=args.scale, seed=args.seed, out=work / "pkg", **kw)
        gen_secs = time.perf_counter() - t0
        gen_peak = peak_rss_mb()
        url = args.database_url or f"sqlite:///{work / 'bench.sqlite'}"
        engine = get_engine(url)
        create_schema(engine)
        t1 = time.perf_counter()
        with StageMemory() as mem:
            s = import_package(work / "pkg", engine, run_detect=True, progress=mem.progress)
        total = time.perf_counter() - t1
        evaluation = None
        if (work / "pkg" / "truth.csv").exists():
            import pandas as pd

            from pipeline.rules.cli import evaluate
            clues = pd.read_sql("SELECT rule, table_name, record_id FROM clues", engine)
            ev = evaluate(clues, pd.read_csv(work / "pkg" / "truth.csv", dtype=str, keep_default_na=False))
            evaluation = {r.rule: {"truth": int(r.truth), "clues": int(r.clues), "precision": r.precision,
                                   "recall": r.recall} for r in ev.itertuples()}
        db_mb = sum(f.stat().st_size for f in work.glob("bench.sqlite*")) / 2**20
        engine.dispose()
    finally:
        if not getattr(args, "keep", False):
            shutil.rmtree(work, ignore_errors=True)
    rows = sum(r.read for r in s.tables.values() if r.present)
    _emit({"bench": "pipeline", "scale": args.scale, "database": engine.dialect.name, "rows": rows,
           "payments": s.tables["payments"].read, "people": s.tables["people"].read,
           "seconds_generate": round(gen_secs, 1), "peak_rss_mb_generate": round(gen_peak, 1),
           "seconds": {k: round(v, 1) for k, v in s.seconds.items()},
           "seconds_import_detect_rollups": round(total, 1), "target_seconds": 600,
           "sqlite_mb": round(db_mb, 1) if engine.dialect.name == "sqlite" else None,
           "peak_rss_mb": round(peak_rss_mb(), 1), "peak_rss_mb_by_stage": mem.result(),
           "kept": str(work) if getattr(args, "keep", False) else None, "precision_recall": evaluation}, args.json)
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
    bi.add_argument("--keep", action="store_true", help="keep the database (its folder is printed)")
    add("detect", _route("pipeline.rules.cli", "bench_detect"), "time per rule and peak memory")
    bb = add("browser", _route("scripts.bench_browser", "bench_browser"),
             "headless Chromium: seconds until every graph of each page is drawn; map payload gzipped")
    bb.add_argument("--rounds", type=int, default=3)
    bl = add("load", _route("scripts.bench_load", "bench_load"), "locust on loopback: N analysts for T seconds")
    bl.add_argument("--users", type=int, default=50)
    bl.add_argument("--seconds", type=int, default=120)
    bp = add("pipeline", bench_pipeline, "generate, import, roll-ups and detect: seconds per stage, peak memory")
    bp.add_argument("--keep", action="store_true", help="keep the package and the database (printed)")
    # the dashboard bench drives the Dash app: it lives outside pipeline/ (which never imports Dash)
    add("dashboard", _route("scripts.bench_dashboard", "bench_dashboard"),
        "p50/p95/max per page, cold and warm, against naive SQL and DuckDB; worker RSS")
    os.environ.setdefault("BENCH", "1")
