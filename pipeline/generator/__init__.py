"""The synthetic data-package generator (docs/generator.md).

    generate(scale="demo", seed=1, out="out/demo")      # -> summary dict
    python manage.py generate --scale city --city 4304 --seed 1 --out out/hengyang
    python manage.py bench generate --scale province --json

Writes every table of ../shared/spec/data-package.md (UTF-8 CSV, exactly the spec's columns),
manifest.csv (with synthetic = 1) and truth.csv (the planted cases). Deterministic for a seed.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

DEFAULT_OUT = Path("out") / "demo"


def generate(scale: str = "demo", seed: int = 1, out: Path | str = DEFAULT_OUT, city: str | None = None) -> dict:
    """Generate a package of ``scale`` (demo, city, province) into ``out``; returns a summary:
    rows per table, seconds per stage, the planted cases per rule and the near-misses."""
    from pipeline.generator.build import Package
    from pipeline.generator.plants import Planter
    from pipeline.generator.write import allocations, write_package
    t0 = time.perf_counter()
    secs = {}

    def lap(name, t):
        secs[name] = round(time.perf_counter() - t, 3)
        return time.perf_counter()
    out = Path(out)
    if out.exists():
        for f in out.glob("*.csv"):
            f.unlink()
    k = Package(scale, seed, city)
    t = time.perf_counter()
    k.geography()
    k.people()
    k.cadres()
    k.funds()
    t = lap("people", t)
    k.payments()
    t = lap("payments", t)
    k.registers()
    t = lap("registers", t)
    k.projects()
    k.ledger()
    k.invoices()
    t = lap("ledger", t)
    pl = Planter(k)
    pl.run()
    k.complaints(pl.complaint_counts())
    allocations(k, pl)
    t = lap("planting_and_allocations", t)
    rows = write_package(k, pl, out)
    lap("writing", t)
    by_rule: dict[str, int] = {}
    for r, _, _ in k.truth:
        by_rule[r] = by_rule.get(r, 0) + 1
    near: dict[str, list] = {}
    for r, tb, x in k.near:
        near.setdefault(r, []).append([tb, x])
    return {"scale": scale, "seed": seed, "city": k.city, "out": str(out), "rows": rows,
            "seconds": round(time.perf_counter() - t0, 2), "stages": secs, "planted": dict(sorted(by_rule.items())),
            "near_misses": dict(sorted(near.items()))}


def _cli(args) -> int:
    s = generate(scale=args.scale, seed=args.seed, out=args.out, city=args.city)
    if getattr(args, "json", False):
        print(json.dumps(s, ensure_ascii=False))
        return 0
    print(f"synthetic {s['scale']} package (seed {s['seed']}) written to {s['out']} in {s['seconds']:.1f} s")
    for name, n in s["rows"].items():
        print(f"  {name:<18}{n:>12,}")
    print("planted: " + ", ".join(f"{r} {n}" for r, n in s["planted"].items()))
    return 0


def bench_generate(args) -> int:
    """Generate a package of --scale into a temporary folder; print rows/s and the peak memory."""
    import tempfile

    from pipeline.bench import _emit, peak_rss_mb
    work = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    try:
        city = getattr(args, "city", None) if args.scale == "city" else None
        s = generate(scale=args.scale, seed=args.seed, out=work / "pkg", city=city)
        rows = sum(v for k, v in s["rows"].items() if k != "truth")
        size = sum(f.stat().st_size for f in (work / "pkg").glob("*.csv"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _emit({"bench": "generate", "scale": args.scale, "seed": args.seed, "rows": rows,
           "payments": s["rows"]["payments"], "people": s["rows"]["people"], "seconds": s["seconds"],
           "rows_per_s": round(rows / s["seconds"]) if s["seconds"] else None, "megabytes_written": round(size / 2**20, 1),
           "peak_rss_mb": round(peak_rss_mb(), 1), "stages": s["stages"]}, getattr(args, "json", False))
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("generate", help="write a synthetic data package (with truth.csv of the planted cases)")
    p.add_argument("--scale", default="demo", choices=("demo", "city", "province"))
    p.add_argument("--city", default=None, help="4-digit city code for --scale city (default 4304, Hengyang)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=_cli)
