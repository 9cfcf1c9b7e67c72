"""The importer and roll-ups on the hand-made package, on SQLite and PostgreSQL: numbers known by construction."""
import shutil

import pandas as pd
import pytest
from sqlalchemy import func, select

from core import schema
from core.db import get_engine
from pipeline.importer import import_package
from pipeline.package_reader import PackageError
from tests.package_factory import C1, C3, CITY, PROV, V1


def _counts(engine):
    with engine.connect() as conn:
        return {t: conn.execute(select(func.count()).select_from(getattr(schema, t))).scalar()
                for t in ("payments", "people", "ledger", "invoices", "complaints", "funds", "allocations")}


def _region_year(engine, code):
    return pd.read_sql(select(schema.agg_region_year).where(schema.agg_region_year.c.region_code == code), engine).iloc[0]


def check_package(engine):
    assert _counts(engine) == {"payments": 40, "people": 20, "ledger": 3, "invoices": 2, "complaints": 2,
                               "funds": 2, "allocations": 5}
    prov = _region_year(engine, PROV)
    assert prov["paid_amount"] == pytest.approx(20000.0)
    assert prov["n_payments"] == 40
    assert prov["households_reached"] == 12          # 4 villages x 3 households (H?0, H?1, H?2)
    assert prov["persons_reached"] == 20
    assert prov["funds_disclosed"] == pytest.approx(150000.0)   # province fund + county fund in its subtree
    assert prov["allocated_in"] == pytest.approx(20000.0)       # what the province sent down
    assert prov["ledger_income"] == pytest.approx(30000.0) and prov["ledger_expense"] == pytest.approx(40800.0)
    c1 = _region_year(engine, C1)
    assert c1["paid_amount"] == pytest.approx(10000.0) and c1["allocated_in"] == pytest.approx(10000.0)
    assert c1["funds_disclosed"] == pytest.approx(50000.0) and c1["project_amount"] == pytest.approx(40000.0)
    assert c1["households"] == 200 and c1["population"] == 600   # summed from its villages
    city = _region_year(engine, CITY)
    assert city["allocated_in"] == pytest.approx(20000.0)
    fr = pd.read_sql(select(schema.agg_fund_region).where(schema.agg_fund_region.c.fund_code == "F-DB"), engine)
    c3 = fr[fr.region_code == C3].iloc[0]
    assert (c3.allocated_in, c3.passed_on, c3.paid_inside) == (10000.0, 10000.0, 10000.0)
    assert c3.parent_code == CITY and c3.n_recipients == 10
    month = pd.read_sql(select(schema.agg_pay_month).where(schema.agg_pay_month.c.region_code == V1), engine)
    assert sorted(month.period) == ["2023-01", "2023-02"] and month.amount.sum() == pytest.approx(2500.0 * 2)
    comp = pd.read_sql(select(schema.agg_complaints).where(schema.agg_complaints.c.region_code == PROV), engine)
    assert comp.received.sum() == 2 and comp.accepted.sum() == 2 and comp.closed.sum() == 1
    assert comp.substantiated.sum() == 1 and comp.amount_involved.sum() == pytest.approx(1000.0)


def test_sqlite_import_builds_rollups_and_is_idempotent(tmp_path, pkg_dir):
    engine = get_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    s = import_package(pkg_dir, engine, run_detect=False)
    assert s.synthetic and s.as_of_date == "2024-06-30"
    assert s.tables["payments"].loaded == 40 and s.tables["payments"].rejected == 0
    check_package(engine)
    import_package(pkg_dir, engine, run_detect=False)      # the same package again changes nothing
    check_package(engine)


def test_postgresql_import_builds_the_same_rollups(pg_url, pkg_dir):
    engine = get_engine(pg_url)
    import_package(pkg_dir, engine, run_detect=False)
    import_package(pkg_dir, engine, run_detect=False)
    check_package(engine)


def test_postgresql_import_leaves_planner_statistics(pg_url, pkg_dir):
    """Autovacuum may be off (it is on our own server): the import analyses what it loaded, or the planner
    guesses one row for every roll-up range."""
    engine = get_engine(pg_url)
    import_package(pkg_dir, engine, run_detect=False)
    with engine.connect() as conn:
        analysed = set(conn.exec_driver_sql(
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()").scalars())
    assert {"payments", "people", "agg_region_year", "agg_fund_flow_group", "agg_pay_month"} <= analysed


def test_postgresql_reads_come_in_binary_with_the_same_values(pg_url, pkg_dir):
    """The dashboard's reads (core.db.reading) ask PostgreSQL for binary results, which psycopg parses in
    half the time of text for the roll-ups' floats; every value is what a text read gives."""
    import psycopg
    from sqlalchemy import select

    from core import schema
    from core.db import reading
    engine = get_engine(pg_url)
    import_package(pkg_dir, engine)
    stmts = [select(t) for t in (schema.agg_region_year, schema.agg_fund_flow_group, schema.agg_complaints,
                                 schema.complaints, schema.clues, schema.packages, schema.funds)]
    with reading(engine) as conn:
        assert conn.connection.dbapi_connection.cursor().format == psycopg.pq.Format.BINARY
        binary = [conn.execute(s).all() for s in stmts]
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection.cursor().format == psycopg.pq.Format.TEXT
        text_ = [conn.execute(s).all() for s in stmts]
    assert all(binary) and binary == text_


def test_postgresql_import_vacuums_what_it_loaded(pg_url, pkg_dir):
    """After a bulk load nothing is marked all-visible: every read then visits the table's pages (and writes
    their hint bits back), and no index-only scan is possible. The import vacuums: the raw tables, the
    roll-ups and what detection wrote have their visibility map set."""
    engine = get_engine(pg_url)
    import_package(pkg_dir, engine)
    tables = ("allocations", "payments", "agg_region_year", "agg_fund_region", "agg_pay_month", "agg_clues", "clues")
    with engine.connect() as conn:
        seen = dict(conn.exec_driver_sql(
            "SELECT relname, relallvisible FROM pg_class WHERE relkind = 'r' AND relname = ANY(%(t)s)",
            {"t": list(tables)}).all())
    assert set(seen) == set(tables)
    assert all(v > 0 for v in seen.values()), seen


def test_bad_rows_go_to_rejects_with_file_row_column_reason(tmp_path, pkg_dir):
    pkg = tmp_path / "pkg"
    shutil.copytree(pkg_dir, pkg)
    lines = (pkg / "payments.csv").read_text(encoding="utf-8").splitlines()
    cols = lines[1].split(",")
    cols[6] = '"1,000.00"'                                   # thousands separator in the amount
    lines[1] = ",".join(cols)
    (pkg / "payments.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine = get_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    s = import_package(pkg, engine, run_detect=False)
    assert s.tables["payments"].loaded == 39 and s.tables["payments"].rejected == 1
    (r,) = s.rejects
    assert (r.file, r.row, r.column, r.value, r.reason) == ("payments.csv", 2, "amount", "1,000.00", "reject.bad_amount")


def test_missing_required_column_refuses_the_package_and_leaves_the_db_untouched(tmp_path, pkg_dir):
    engine = get_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    import_package(pkg_dir, engine, run_detect=False)
    pkg = tmp_path / "pkg"
    shutil.copytree(pkg_dir, pkg)
    df = pd.read_csv(pkg / "payments.csv", dtype=str).drop(columns=["amount"])
    df.to_csv(pkg / "payments.csv", index=False)
    with pytest.raises(PackageError) as exc:
        import_package(pkg, engine, run_detect=False)
    assert (exc.value.file, exc.value.column) == ("payments.csv", "amount")
    assert _counts(engine)["payments"] == 40
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.packages)).scalar() == 1


def test_gbk_encoded_file_is_read(tmp_path, pkg_dir):
    pkg = tmp_path / "pkg"
    shutil.copytree(pkg_dir, pkg)
    text = (pkg / "people.csv").read_text(encoding="utf-8")
    (pkg / "people.csv").write_bytes(text.encode("gb18030"))
    engine = get_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    s = import_package(pkg, engine, run_detect=False)
    assert s.tables["people"].encoding == "gb18030" and s.tables["people"].loaded == 20
    names = pd.read_sql("SELECT name FROM people", engine)["name"]
    assert names.str.startswith("张").all()


def test_sqlite_import_leaves_rollup_statistics(tmp_path, pkg_dir):
    """Without statistics SQLite reads "level = 'village' AND region_code in a township's range" through
    the level index (every village of the province) instead of the range of codes: the import samples
    the roll-up tables (and only those: the raw tables are read by key)."""
    from sqlalchemy import event

    from core.scope import Scope
    from data_access import overview
    from tests.conftest import using_database
    url = f"sqlite:///{tmp_path / 'stats.sqlite'}"
    engine = get_engine(url)
    import_package(pkg_dir, engine, run_detect=False)
    with engine.connect() as conn:
        analysed = set(conn.exec_driver_sql("SELECT DISTINCT tbl FROM sqlite_stat1").scalars())
    assert {"agg_region_year", "agg_complaints", "agg_pay_month", "agg_fund_flow_group"} <= analysed
    assert not analysed & {"payments", "people", "ledger"}
    seen = []

    def capture(conn, _cursor, statement, params, _context, executemany):
        if "agg_region_year" in statement:
            seen.append((statement, params))
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with using_database(url):
            overview.subregions.uncached(Scope(region_code="430000000000"), "430421100000", None, "village")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + seen[0][0], seen[0][1])]
    # every roll-up is read by the township's range of codes: by its key or by (level, region_code), never by
    # the level alone (ix_agg_region_year_level is (level, year), ix_agg_complaints_level (level, period))
    import re
    reads = [p for p in plan if re.match(r"(SEARCH|SCAN) agg_", p)]
    assert reads, plan
    assert all("region_code>?" in p or "region_code=?" in p for p in reads), plan
    assert not any(re.search(r"INDEX ix_agg_(region_year|complaints)_level\b", p) for p in plan), plan
