"""The malformed-package corpus (tests/malformed_factory.py), table-driven: every case gives exactly the
outcome its row says, and a refused package leaves the database as it was. Plus: re-import and
corrected packages (updated by key, counted), a kill -9 in the middle of loading, the CLI's JSON and
rejects report, the CLI's progress bars."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import schema
from core.db import get_engine
from pipeline.importer import STAGES, import_package
from pipeline.package_reader import PackageError
from tests.malformed_factory import CASES, PAY, Accepted, Refused, base_package, build_case, read_rows, write_rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return base_package(tmp_path_factory.mktemp("base") / "pkg")


@pytest.fixture(scope="module")
def baseline_db(base, tmp_path_factory) -> Path:
    """A SQLite file with the intact package imported; each test works on a copy of it."""
    path = tmp_path_factory.mktemp("db") / "baseline.sqlite"
    engine = get_engine(f"sqlite:///{path}")
    import_package(base, engine, run_detect=False)
    engine.dispose()
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def fresh_copy(baseline_db: Path, tmp_path: Path) -> str:
    dst = tmp_path / "db.sqlite"
    shutil.copy(baseline_db, dst)
    return f"sqlite:///{dst}"


def fingerprint(url: str) -> dict:
    """What a user would compare: every table's row count, the money, the packages, the roll-ups."""
    engine = get_engine(url)
    with engine.connect() as conn:
        fp = {t: conn.execute(select(func.count()).select_from(getattr(schema, t))).scalar()
              for t in (*schema.PACKAGE_TABLES, "packages", "agg_region_year")}
        fp["paid"] = conn.execute(select(func.sum(schema.payments.c.amount))).scalar()
        fp["rollup_paid"] = conn.execute(select(func.sum(schema.agg_region_year.c.paid_amount))).scalar()
        fp["amounts"] = conn.exec_driver_sql("SELECT group_concat(payment_id || ':' || amount) FROM "
                                             "(SELECT * FROM payments ORDER BY payment_id)").scalar()
    return fp


def kill_when(script: str, env: dict, marker: Path, timeout: float = 60) -> None:
    """Run ``python -c script`` and kill -9 it as soon as it has written ``marker`` (it must not end first)."""
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT)
    try:
        deadline = time.time() + timeout
        while not marker.exists():
            assert proc.poll() is None, "the import ended before it was killed"
            assert time.time() < deadline, "the import never reached the point where it is killed"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL


def test_the_corpus_has_every_case_the_issue_names():
    names = {c.name for c in CASES}
    assert len(CASES) >= 25
    for must in ("missing_manifest", "missing_required_column", "unknown_table", "gbk", "utf8_bom", "xlsx_bad_date",
                 "truncated_csv", "truncated_zip", "zip_bomb", "bad_date", "thousands_separator", "negative_amount",
                 "unknown_region", "duplicate_key", "unknown_fund", "unknown_ledger_entry", "bad_check_digit_in_people",
                 "extra_column_ignored"):
        assert must in names, must


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case, base, baseline_db, tmp_path):
    url = fresh_copy(baseline_db, tmp_path)
    before = fingerprint(url)
    path = build_case(case, base, tmp_path / "work")
    exp = case.expect
    if isinstance(exp, Refused):
        with pytest.raises(PackageError) as info:
            import_package(path, get_engine(url), run_detect=False)
        err = info.value
        assert (err.key, err.file, err.column) == (exp.key, exp.file, exp.column), err
        assert fingerprint(url) == before, "a refused package must leave the database untouched"
        return
    assert isinstance(exp, Accepted)
    s = import_package(path, get_engine(url), run_detect=False)
    for table, (loaded, rejected, ignored) in exp.tables.items():
        r = s.tables[table]
        assert (r.loaded, r.rejected, r.ignored_columns) == (loaded, rejected, ignored), table
        assert r.loaded + r.rejected == r.read, "every row read is either loaded or rejected"
    if exp.rejects:
        assert [(r.file, r.row, r.column, r.value, r.reason) for r in s.rejects] == list(exp.rejects)
    if exp.ignored_files:
        assert s.ignored_files == list(exp.ignored_files)
    if exp.check:
        assert exp.check(s), s.rejects
    if not exp.rejects and not exp.check:
        assert s.rejects == []


def _corrected(base: Path, tmp_path: Path) -> Path:
    pkg = tmp_path / "corrected"
    shutil.copytree(base, pkg)
    rows = read_rows(pkg / "payments.csv")
    rows[1][PAY["amount"]] = "450.00"            # P0001 corrected
    rows[2][PAY["amount"]] = "450.00"            # P0002 corrected
    new = list(rows[3])
    new[PAY["payment_id"]] = "P9999"             # one payment more
    rows.append(new)
    write_rows(pkg / "payments.csv", rows)
    return pkg


def test_same_package_twice_changes_nothing_and_a_corrected_one_updates_by_key(base, baseline_db, tmp_path):
    from data_access.cache import data_version
    url = fresh_copy(baseline_db, tmp_path)
    engine = get_engine(url)
    before = fingerprint(url)
    s = import_package(base, engine, run_detect=False)
    p = s.tables["payments"]
    assert (p.loaded, p.inserted, p.updated, p.unchanged) == (40, 0, 0, 40)
    assert s.tables["deaths"].present and s.tables["deaths"].loaded == 0
    after = fingerprint(url)
    assert {k: v for k, v in after.items() if k != "packages"} == {k: v for k, v in before.items() if k != "packages"}
    assert after["packages"] == before["packages"] + 1            # the history records the import
    version = data_version()
    s = import_package(_corrected(base, tmp_path), engine, run_detect=False)
    p = s.tables["payments"]
    assert (p.loaded, p.inserted, p.updated, p.unchanged) == (41, 1, 2, 38)
    assert s.to_json()["tables"]["payments"]["updated"] == 2
    fp = fingerprint(url)
    assert fp["payments"] == 41 and fp["paid"] == pytest.approx(before["paid"] - 100 + 500)
    with engine.connect() as conn:                               # the roll-ups were rebuilt
        prov = conn.execute(select(schema.agg_region_year.c.paid_amount).where(
            schema.agg_region_year.c.region_code == "430000000000")).scalar()
    assert prov == pytest.approx(20000.0 - 100 + 500)
    assert data_version() > version                              # the data_access cache was invalidated


KILLER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    from core.db import get_engine
    from pipeline.importer import import_package
    seen = []
    def progress(stage, frac):
        seen.append(stage)
        if stage == "loading" and frac > 0.3:      # inside the transaction, some tables written
            open({marker!r}, "w").write(stage)
            time.sleep(60)
    import_package({pkg!r}, get_engine({url!r}), run_detect=False, progress=progress)
""")


def test_kill_9_in_the_middle_of_loading_leaves_the_database_as_it_was(base, baseline_db, tmp_path):
    url = fresh_copy(baseline_db, tmp_path)
    before = fingerprint(url)
    get_engine(url).dispose()
    marker = tmp_path / "in-transaction"
    pkg = _corrected(base, tmp_path)
    script = KILLER.format(root=str(ROOT), marker=str(marker), pkg=str(pkg), url=url)
    env = {**os.environ, "CACHE_DIR": str(tmp_path / "cache")}
    kill_when(script, env, marker)
    assert fingerprint(url) == before
    s = import_package(pkg, get_engine(url), run_detect=False)      # and the database still works
    assert s.tables["payments"].updated == 2


# `python manage.py import ...` registers exactly this parser (pipeline.importer.add_cli); it is driven
# directly so that a command module of someone else's that is half-written cannot break these tests.
CLI = ("import argparse, sys; from pipeline.importer import add_cli; p = argparse.ArgumentParser(); "
       "add_cli(p.add_subparsers(dest='command', required=True)); a = p.parse_args(); sys.exit(a.func(a))")


def _cli(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-c", CLI, "import", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_cli_json_summary_rejects_report_and_refusal(base, baseline_db, tmp_path):
    url = fresh_copy(baseline_db, tmp_path)
    case = next(c for c in CASES if c.name == "thousands_separator")
    pkg = build_case(case, base, tmp_path / "w1")
    rejects = tmp_path / "rejects.csv"
    r = _cli(pkg, "--json", "--no-detect", "--database-url", url, "--rejects", rejects, "--lang", "en")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["refused"] is False
    assert {k: out["tables"]["payments"][k] for k in ("loaded", "updated", "rejected", "ignored")} == \
        {"loaded": 39, "updated": 0, "rejected": 1, "ignored": []}
    text = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "file,row,column,value,reason"
    assert text[1].startswith('payments.csv,5,amount,"1,000.00","Bad amount')
    bad = build_case(next(c for c in CASES if c.name == "missing_required_column"), base, tmp_path / "w2")
    r = _cli(bad, "--json", "--no-detect", "--database-url", url, "--lang", "zh")
    assert r.returncode != 0
    out = json.loads(r.stdout)
    assert out["refused"] is True and out["reason"] == "package.missing_column"
    assert (out["file"], out["column"]) == ("payments.csv", "amount") and "缺少必需的列" in out["message"]


def test_cli_shows_the_stages_as_progress_bars(base, baseline_db, tmp_path):
    url = fresh_copy(baseline_db, tmp_path)
    r = _cli(base, "--database-url", url, "--lang", "en")
    assert r.returncode == 0, r.stderr
    import re
    bars = re.findall(r"(\w+)\s+\[[# ]+\]\s+([\d.]+)%", r.stderr)
    order = list(dict.fromkeys(stage for stage, _ in bars))
    assert order == list(STAGES)
    last = {stage: float(pct) for stage, pct in bars}
    assert all(last[s] == 100.0 for s in STAGES)
    assert "payments" in r.stdout and "40" in r.stdout
