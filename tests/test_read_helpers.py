"""data_access.base's readers (read_rows, read_records, read_df) give exactly the values SQLAlchemy's own rows
carry, on SQLite (where SQLAlchemy converts dates and bools) and on PostgreSQL (where the rows come straight
from psycopg's fetchall): dates as dates, bools as bools, NULLs as None, in the statement's order."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Column, Date, Float, Integer, MetaData, Numeric, String, Table, create_engine, select

ROWS = [
    {"id": 1, "code": "430421100203", "day": dt.date(2023, 7, 2), "flag": True, "amount": 1093.06, "exact": 12.5},
    {"id": 2, "code": "430421100204", "day": None, "flag": False, "amount": None, "exact": None},
    {"id": 3, "code": None, "day": dt.date(2024, 2, 29), "flag": None, "amount": -0.01, "exact": 0},
]


def _table(md: MetaData) -> Table:
    return Table("read_helper_probe", md, Column("id", Integer, primary_key=True), Column("code", String(12)),
                 Column("day", Date), Column("flag", Boolean), Column("amount", Float), Column("exact", Numeric(12, 2)))


def _check(engine) -> None:
    from data_access.base import read_df, read_records, read_rows
    md = MetaData()
    t = _table(md)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert(), ROWS)
    stmt = select(t.c.id, t.c.code, t.c.day, t.c.flag, t.c.amount, t.c.exact).order_by(t.c.id.desc())
    with engine.connect() as conn:
        expected = [tuple(r) for r in conn.execute(stmt)]
    assert expected[0][2] == dt.date(2024, 2, 29) and expected[1][3] is False      # (what SQLAlchemy gives)
    got = read_rows(stmt, engine)
    assert got == expected
    assert [tuple(map(type, r)) for r in got] == [tuple(map(type, r)) for r in expected]
    recs = read_records(stmt, engine)
    assert recs == [dict(zip(("id", "code", "day", "flag", "amount", "exact"), r)) for r in expected]
    df = read_df(stmt, engine)
    assert list(df.columns) == ["id", "code", "day", "flag", "amount", "exact"]
    assert df["id"].tolist() == [3, 2, 1]
    assert df["day"].tolist()[0] == dt.date(2024, 2, 29) and df["day"].tolist()[1] is None
    assert df["code"].tolist() == [None, "430421100204", "430421100203"]
    # an empty result keeps its columns
    empty = read_df(stmt.where(t.c.id < 0), engine)
    assert empty.empty and list(empty.columns) == list(df.columns)
    assert read_rows(stmt.where(t.c.id < 0), engine) == []


def test_readers_give_sqlalchemys_values_on_sqlite(tmp_path):
    _check(create_engine(f"sqlite:///{tmp_path / 'probe.sqlite'}"))


def test_readers_give_sqlalchemys_values_on_postgresql(pg_url):
    from core.db import get_engine
    engine = get_engine(pg_url)
    _check(engine)
    # on PostgreSQL (psycopg) the rows are plain tuples from the driver, as the helpers promise
    from data_access.base import read_rows
    t = _table(MetaData())
    assert all(type(r) is tuple for r in read_rows(select(t.c.id, t.c.day), engine))



def test_statements_built_once_apply_the_scope_as_parameters(tmp_path):
    """A statement built once (``statement``) with the region and scope as parameters: each call's values
    decide the rows, and an empty scope's bounds match nothing (deny by default)."""
    from core.scope import Scope
    from data_access.base import bounds, in_scope_param, read_rows, scope_bounds, statement, under_param
    engine = create_engine(f"sqlite:///{tmp_path / 'probe.sqlite'}")
    md = MetaData()
    t = Table("scoped_probe", md, Column("code", String(12), primary_key=True))
    md.create_all(engine)
    codes = ["430421100203", "430421100204", "430422100101", "431100000000", "430000000000", "440100000000"]
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"code": c} for c in codes])
    built = []

    def build():
        built.append(1)
        return select(t.c.code).where(under_param(t.c.code), in_scope_param(t.c.code)).order_by(t.c.code)
    key = ("test_read_helpers.scoped_probe",)

    def rows(region, scope):
        return [r[0] for r in read_rows(statement(key, build), engine,
                                        params={**bounds(region), **scope_bounds(scope)})]
    assert rows("430000000000", Scope("430000000000")) == sorted(c for c in codes if c.startswith("43"))
    assert rows("430000000000", Scope("430421000000")) == ["430421100203", "430421100204"]
    assert rows("430421000000", Scope("430422000000")) == []           # the region outside the scope
    assert rows("430000000000", Scope(None)) == []                     # an empty scope sees nothing
    assert rows("430421100203", Scope("430000000000")) == ["430421100203"]
    assert len(built) == 1                                             # built once, run five times


def test_like_escaped_keeps_wildcards_literal(tmp_path):
    """A search for "10%_/x" finds that text and nothing that only matches it as a LIKE pattern."""
    from sqlalchemy import bindparam

    from data_access.base import like_escaped, read_rows
    engine = create_engine(f"sqlite:///{tmp_path / 'probe.sqlite'}")
    md = MetaData()
    t = Table("like_probe", md, Column("name", String(40), primary_key=True))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"name": n} for n in ("a10%_/x", "a10xy/x", "10%_/xb", "b10%a/x")])
    stmt = select(t.c.name).where(t.c.name.contains(bindparam("q"), escape="/")).order_by(t.c.name)
    assert [r[0] for r in read_rows(stmt, engine, params={"q": like_escaped("10%_/x")})] == ["10%_/xb", "a10%_/x"]
    starts = select(t.c.name).where(t.c.name.startswith(bindparam("q"), escape="/"))
    assert [r[0] for r in read_rows(starts, engine, params={"q": like_escaped("10%")})] == ["10%_/xb"]


def _mixed_frame():
    import numpy as np
    import pandas as pd
    return pd.DataFrame({
        "n": np.arange(4, dtype="int64"), "x": [1.5, np.nan, -0.0, 2.25], "s": ["a", None, "c", np.nan],
        "day": pd.to_datetime(["2024-02-29", None, "2023-07-02", "2023-01-01"]), "ok": [True, False, True, False],
        "obj": [1, "two", None, 3.5], "cnt": pd.array([1, None, 3, 4], dtype="Int64"),
    })


def _types(recs):
    return [{k: type(v) for k, v in r.items()} for r in recs]


def test_plain_records_gives_what_pandas_to_dict_gives():
    """The tables' rows built from column lists carry the same values and Python types as pandas' own
    ``to_dict("records")``, and with missing_as_none as ``astype(object).where(notna, None)`` (missing -> None)."""
    import math

    from data_access.base import plain_records
    df = _mixed_frame()

    def same(a, b):                       # NaN == NaN, pd.NA == pd.NA, NaT == NaT for the comparison
        def key(v):
            if isinstance(v, float) and math.isnan(v):
                return "nan"
            return repr(v) if v is None or str(v) in ("<NA>", "NaT") else v
        return [{k: key(v) for k, v in r.items()} for r in a] == [{k: key(v) for k, v in r.items()} for r in b]

    expected = df.to_dict("records")
    got = plain_records(df)
    assert same(got, expected) and _types(got) == _types(expected)
    assert list(got[0]) == list(df.columns)
    expected = df.astype(object).where(df.notna(), None).to_dict("records")
    got = plain_records(df, missing_as_none=True)
    assert got == expected and _types(got) == _types(expected)
    assert got[1] == {"n": 1, "x": None, "s": None, "day": None, "ok": False, "obj": "two", "cnt": None}
    assert plain_records(df, ["s", "n"], n=2) == [{"s": "a", "n": 0}, {"s": None, "n": 1}]
    assert plain_records(df.iloc[:0]) == []
