"""`python manage.py detect`: run the clue rules over the imported package; evaluate against a
generator's truth.csv; export the clues. `bench_detect` is what `manage.py bench detect` runs."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import threading
import time

import pandas as pd

TRUTH_KEY = ["rule", "table", "record_id"]


def evaluate(clues_df: pd.DataFrame, truth_df: pd.DataFrame) -> pd.DataFrame:
    """Per rule: truth rows, clues, true positives, precision and recall, matching (rule, table,
    record_id). ``clues_df`` may name the table column `table_name` (as RuleResult) or `table`
    (as an export). Precision is NaN for a rule without clues, recall NaN for one without truth rows."""
    c = clues_df.rename(columns={"table_name": "table"})
    c = c[TRUTH_KEY].astype(str).drop_duplicates()
    t = truth_df[TRUTH_KEY].astype(str).apply(lambda s: s.str.strip()).drop_duplicates()
    rows = []
    for rule in sorted(set(c["rule"]) | set(t["rule"])):
        found = set(map(tuple, c.loc[c["rule"] == rule, ["table", "record_id"]].to_numpy().tolist()))
        truth = set(map(tuple, t.loc[t["rule"] == rule, ["table", "record_id"]].to_numpy().tolist()))
        tp = len(found & truth)
        rows.append({"rule": rule, "truth": len(truth), "clues": len(found), "tp": tp,
                     "fp": len(found - truth), "fn": len(truth - found),
                     "precision": tp / len(found) if found else float("nan"),
                     "recall": tp / len(truth) if truth else float("nan"),
                     "missed": sorted(r for _, r in truth - found)[:10],
                     "unexpected": sorted(r for _, r in found - truth)[:10]})
    return pd.DataFrame(rows, columns=["rule", "truth", "clues", "tp", "fp", "fn", "precision", "recall",
                                       "missed", "unexpected"])


def failing(ev: pd.DataFrame, min_precision: float, min_recall: float) -> pd.DataFrame:
    """Rules below either threshold (a NaN, i.e. nothing to measure, never fails)."""
    return ev[(ev["precision"] < min_precision) | (ev["recall"] < min_recall)]


def export_clues(clues: pd.DataFrame, path: str) -> int:
    out = clues.rename(columns={"table_name": "table"})
    if "status" not in out:
        out = out.assign(status="new")
    out[["rule", "table", "record_id", "region_code", "amount_at_risk", "status"]].to_csv(path, index=False)
    return len(out)


def _runs_text(runs: pd.DataFrame) -> str:
    from core.i18n import t
    lines = [f"{'rule':5} {'ran':4} {'examined':>12} {'clues':>9} {'seconds':>8}  note"]
    for r in runs.itertuples():
        note = "" if r.ran else t(r.reason, "en")
        if r.ran and r.flood:
            note = "FLOOD: " + t("rules.flood", "en")
        lines.append(f"{r.rule:5} {'yes' if r.ran else 'no':4} {int(r.examined):>12,} {int(r.clues):>9,} "
                     f"{float(r.seconds):>8.2f}  {note}")
    return "\n".join(lines)


def _engine(args):
    from core.db import create_schema, get_engine
    engine = get_engine(getattr(args, "database_url", None))
    create_schema(engine)
    return engine


def _as_of(args):
    v = getattr(args, "as_of", None)
    return dt.date.fromisoformat(v) if v else None


def cmd_detect(args) -> int:
    from pipeline.rules.engine import detect
    engine = _engine(args)
    t0 = time.perf_counter()
    res = detect(engine, as_of=_as_of(args), rules=args.rules.split(",") if args.rules else None)
    # the map, the grades and the clue counts read roll-ups of the clues: rebuild them, then drop the
    # dashboard's cached answers (as an import does)
    from data_access.cache import invalidate
    from pipeline.rollups import build_clue_rollups
    with engine.begin() as conn:
        build_clue_rollups(conn)
    invalidate()
    secs = time.perf_counter() - t0
    out = {"seconds": round(secs, 2), "clues": int(len(res.clues)),
           "runs": json.loads(res.runs.to_json(orient="records"))}
    code = 0
    if args.export:
        export_clues(res.clues, args.export)
        out["export"] = args.export
    ev = None
    if args.evaluate:
        ev = evaluate(res.clues, pd.read_csv(args.evaluate, dtype=str, keep_default_na=False))
        bad = failing(ev, args.min_precision, args.min_recall)
        out["evaluation"] = json.loads(ev.to_json(orient="records"))
        out["failing"] = bad["rule"].tolist()
        code = 1 if len(bad) else 0
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return code
    print(_runs_text(res.runs))
    print(f"{len(res.clues):,} clues in {secs:.1f} s (load {res.load_seconds:.1f} s, write {res.write_seconds:.1f} s)")
    if args.export:
        print(f"exported to {args.export}")
    if ev is not None:
        print(f"\n{'rule':5} {'truth':>6} {'clues':>6} {'tp':>6} {'precision':>9} {'recall':>7}")
        for r in ev.itertuples():
            print(f"{r.rule:5} {r.truth:>6} {r.clues:>6} {r.tp:>6} {r.precision:>9.3f} {r.recall:>7.3f}"
                  + (f"  missed {', '.join(r.missed)}" if r.fn else "")
                  + (f"  unexpected {', '.join(r.unexpected)}" if r.fp else ""))
        if code:
            print(f"below min precision {args.min_precision} / min recall {args.min_recall}: "
                  f"{', '.join(out['failing'])}", file=sys.stderr)
    return code


class _PeakRSS:
    """Samples the process's resident memory while a block runs."""

    def __init__(self, interval: float = 0.05):
        import psutil
        self.proc, self.interval, self.peak = psutil.Process(), interval, 0
        self._stop = threading.Event()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = self.proc.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def _prepared_engine(args):
    """A fresh SQLite database holding a generated package of --scale/--seed (no package to bench)."""
    import tempfile
    from pathlib import Path

    from core.db import get_engine
    from pipeline.generator import generate
    from pipeline.importer import import_package
    work = Path(tempfile.mkdtemp(prefix="bench-detect-"))
    generate(scale=getattr(args, "scale", "demo"), seed=getattr(args, "seed", 1), out=work / "pkg")
    engine = get_engine(f"sqlite:///{work / 'bench.sqlite'}")
    import_package(work / "pkg", engine, run_detect=False)
    return engine


def bench_detect(args) -> int:
    """Run detect once and report the time of each rule and the peak memory. With an empty database
    (no package imported yet), a package of --scale/--seed is generated and imported first."""
    from pipeline.rules.engine import detect, latest_as_of
    engine = _prepared_engine(args) if latest_as_of(_engine(args)) is None else _engine(args)
    t0 = time.perf_counter()
    with _PeakRSS() as mem:
        res = detect(engine, as_of=_as_of(args))
    total = time.perf_counter() - t0
    out = {"bench": "detect", "seconds": round(total, 2), "load_seconds": round(res.load_seconds, 2),
           "write_seconds": round(res.write_seconds, 2), "clues": int(len(res.clues)),
           "peak_rss_mb": round(mem.peak / 2**20, 1),
           "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "rules": {r.rule: {"ran": bool(r.ran), "examined": int(r.examined), "clues": int(r.clues),
                              "seconds": float(r.seconds)} for r in res.runs.itertuples()}}
    if getattr(args, "json", False):
        print(json.dumps(out))
        return 0
    print(_runs_text(res.runs))
    print(f"total {total:.1f} s: load {res.load_seconds:.1f} s, rules {res.runs['seconds'].sum():.1f} s, "
          f"write {res.write_seconds:.1f} s; {len(res.clues):,} clues; peak RSS {out['peak_rss_mb']:,.0f} MB")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("detect", help="run the clue rules over the imported package",
                       description="Run the clue rules (docs/rules.md) over the package in the database and "
                                   "replace the clues, keeping the status of clues found again.")
    p.add_argument("--database-url", help="default: DATABASE_URL or the SQLite file under DATA_DIR")
    p.add_argument("--as-of", help="judge on this date (YYYY-MM-DD) instead of the package's as_of_date")
    p.add_argument("--rules", help="comma-separated rule ids to run (default: all)")
    p.add_argument("--evaluate", metavar="TRUTH_CSV", help="per-rule precision and recall against a truth.csv")
    p.add_argument("--min-precision", type=float, default=1.0, help="with --evaluate (default 1.0)")
    p.add_argument("--min-recall", type=float, default=1.0, help="with --evaluate (default 1.0)")
    p.add_argument("--export", metavar="CSV", help="write every clue: rule, table, record_id, region_code, "
                                                   "amount_at_risk, status")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_detect)


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments `bench detect` understands (for pipeline/bench.py to reuse)."""
    p.add_argument("--database-url")
    p.add_argument("--as-of")
    p.add_argument("--json", action="store_true")
