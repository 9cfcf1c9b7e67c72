"""Shared pieces of the read side: scope filters (deny by default), engine, row helpers.

Every public data_access function takes the viewer's Scope as its first argument and applies it
inside its query with ``in_scope``; an empty scope yields a filter that matches nothing.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, false, select
from sqlalchemy.sql import ColumnElement

from core import schema
from core.db import reading
from core.scope import Scope, level_of, normalize_code, prefix_of, prefix_upper


def in_scope(column, scope: Scope) -> ColumnElement:
    """``column`` (a 12-digit region code column) lies inside the scope's region."""
    if scope is None or scope.is_empty:
        return false()
    p = scope.prefix
    return and_(column >= p.ljust(12, "0"), column < prefix_upper(p).ljust(12, "0"))


def under(column, region_code: str) -> ColumnElement:
    p = prefix_of(region_code)
    return and_(column >= p.ljust(12, "0"), column < prefix_upper(p).ljust(12, "0"))


# --- statements built once ---------------------------------------------------------------------------
# A statement built for each call costs more than running it: building a three-way join of roll-ups took
# ~0.7 ms and its cache key ~0.25 ms, against ~0.3 ms to execute it on PostgreSQL when built once with bound
# parameters (SQLAlchemy remembers a statement's cache key on the statement). The hottest reads are built
# once per shape (``statement``) with their regions as parameters: ``under_param`` / ``in_scope_param``
# in the statement, ``bounds`` / ``scope_bounds`` for the values.
_STATEMENTS: dict[tuple, object] = {}


def statement(key: tuple, build):
    """The statement ``build()`` makes, built once per process for ``key`` (its shape: module, name and
    whatever changes the SQL text, never a value that belongs in a parameter)."""
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


def under_param(column, name: str = "region") -> ColumnElement:
    """``column`` lies under the region given as the parameters ``{name}_lo`` / ``{name}_hi`` (``bounds``)."""
    return and_(column >= bindparam(f"{name}_lo"), column < bindparam(f"{name}_hi"))


def in_scope_param(column) -> ColumnElement:
    """``in_scope`` as parameters (``scope_bounds``): deny by default holds, since an empty scope's bounds
    are the empty range."""
    return under_param(column, "scope")


def bounds(region_code: str, name: str = "region") -> dict[str, str]:
    p = prefix_of(region_code)
    return {f"{name}_lo": p.ljust(12, "0"), f"{name}_hi": prefix_upper(p).ljust(12, "0")}


def scope_bounds(scope: Scope) -> dict[str, str]:
    """The values of ``in_scope_param``: the scope's range, or an empty range (no code is >= "" and < "")
    for an empty scope."""
    if scope is None or scope.is_empty:
        return {"scope_lo": "", "scope_hi": ""}
    return bounds(scope.region_code, "scope")


def year_params(year) -> dict:
    """The values of a statement's year filters: ``year``, and its months ``month_from`` / ``month_to`` (YYYY-MM);
    none without a year. (A statement takes the parameters it names and ignores the others.)"""
    if not year:
        return {}
    y = int(year)
    return {"year": y, "month_from": f"{y}-01", "month_to": f"{y}-12"}


def person_params(scope: Scope) -> dict:
    """The value of the parameter ``person_id`` (the viewer's own ID number, for "not about the viewer"
    conditions built once) for a viewer linked to one; none otherwise."""
    return {"person_id": scope.person_id} if scope is not None and scope.person_id else {}


def like_escaped(s: str) -> str:
    """``s`` escaped for LIKE with the escape character "/", as SQLAlchemy's ``autoescape=True`` escapes a
    literal (which a bound parameter cannot take): the statement is then built once with ``escape="/"``."""
    return s.replace("/", "//").replace("%", "/%").replace("_", "/_")


def resolve_region(scope: Scope, region: str | None) -> str | None:
    """The region to show: the requested one when it is inside the scope, else the scope's own."""
    if scope is None or scope.is_empty:
        return None
    try:
        region = normalize_code(region) if region else None
    except ValueError:
        region = None
    return scope.clamp(region)


def is_missing(v) -> bool:
    """None, NaN, pd.NA or NaT: a missing value as a record from a frame carries it."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def plain_records(df: pd.DataFrame, cols=None, n: int | None = None, missing_as_none: bool = False) -> list[dict]:
    """The first ``n`` (all) rows of ``df`` as dicts of ``cols`` (all columns), with the plain Python values
    ``to_dict("records")`` gives; with ``missing_as_none``, every missing value (NaN, NaT, pd.NA) as None, as
    ``df.astype(object).where(df.notna(), None).to_dict("records")`` gives. Built from the columns' lists:
    pandas' version cost ~2.5 ms for a table of a hundred rows and eight columns, this ~0.3 ms."""
    cols = list(df.columns) if cols is None else list(cols)
    lists = []
    for c in cols:
        s = df[c] if n is None else df[c].iloc[:n]
        vals = s.tolist()
        if not isinstance(s.dtype, np.dtype):     # a nullable (extension) column: to_dict gives its pd.NA as None
            vals = [None if v is pd.NA else v for v in vals]
        lists.append(vals)
    if missing_as_none:
        lists = [[None if is_missing(v) else v for v in col] for col in lists]
    return [dict(zip(cols, vals)) for vals in zip(*lists)]


def as_float(v) -> float:
    """A number as float; NaN when missing or not a number (as pd.to_numeric(errors="coerce"))."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _all_tuples(res) -> list[tuple]:
    """Every row of a result as a plain tuple. When SQLAlchemy has no conversion to apply to any column (on
    PostgreSQL, psycopg already returns dates, numbers and bools), the rows come straight from the driver's
    ``fetchall``: building a ``Row`` per row, fetched one at a time, cost ~0.7 ms for a city's fund-flow rows
    (1,042; 1.9 -> 1.2 ms). Otherwise (SQLite's dates and bools) through SQLAlchemy, converted."""
    processors = getattr(getattr(res, "_metadata", None), "_processors", None)
    cursor = getattr(res, "cursor", None)
    if processors is not None and cursor is not None and not any(processors):
        try:
            return cursor.fetchall()
        finally:
            res.close()
    return [tuple(r) for r in res.fetchall()]


def read_df(stmt, engine=None, params: dict | None = None) -> pd.DataFrame:
    with reading(engine) as conn:
        res = conn.execute(stmt, params)
        keys = list(res.keys())
        return pd.DataFrame(_all_tuples(res), columns=keys)


def read_rows(stmt, engine=None, params: dict | None = None) -> list[tuple]:
    """The rows of ``stmt`` as tuples, for a function that computes over a few dozen rows in plain Python
    (a frame's construction and per-column ``tolist`` cost more than the read at that size)."""
    with reading(engine) as conn:
        return _all_tuples(conn.execute(stmt, params))


def read_records(stmt, engine=None, params: dict | None = None) -> list[dict]:
    """The rows of ``stmt`` as dicts by column name (``read_rows`` for a function that works on named fields)."""
    with reading(engine) as conn:
        res = conn.execute(stmt, params)
        keys = list(res.keys())
        return [dict(zip(keys, r)) for r in _all_tuples(res)]


def descending_order(values: list[float]) -> list[int]:
    """Positions by value, largest first, missing last: numpy's quicksort applied as pandas' nargsort
    applies it for sort_values(ascending=False), so that ties keep the order pandas gave them."""
    v = np.asarray(values, dtype=float)
    missing = np.isnan(v)
    idx = np.arange(len(v))
    present, at = v[~missing][::-1], idx[~missing][::-1]
    return np.concatenate([at[present.argsort(kind="quicksort")][::-1], idx[missing]]).tolist()


_ALL_NAMES: dict[tuple, dict[str, str]] = {}


def _all_region_names() -> dict[str, str]:
    """Every region's name, read once per worker process and data version (~32k rows for a province)."""
    from core.settings import get_settings
    from data_access.cache import data_version
    key = (get_settings().database_url, data_version())
    names = _ALL_NAMES.get(key)
    if names is None:
        with reading() as conn:
            names = dict(conn.execute(select(schema.regions.c.code, schema.regions.c.name)).all())
        _ALL_NAMES.clear()
        _ALL_NAMES[key] = names
    return names


def region_names(codes) -> dict[str, str]:
    """code -> name for the given codes (names of regions are public; no scope applies). From the
    process's copy of every name (read once per data version, ~0.2 s at province scale): an IN list of a
    few hundred codes cost 1 ms on SQLite and ~8 ms on PostgreSQL, on every call."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    names = _all_region_names()
    return {c: names[c] for c in sorted(codes) if c in names}


def child_level(region_code: str) -> str | None:
    from core.scope import CHILD_LEVEL
    return CHILD_LEVEL.get(level_of(region_code))


def memoize_narrowed(resolve):
    """``memoize`` for a function ``fn(scope, region, ...)`` that reads only under the region
    ``resolve(scope, region)`` gives: when that region lies wholly inside the scope, the answer for a viewer
    is the answer for the viewer's scope narrowed to it (``Scope.narrowed``, same grants), so it is
    memoized on the narrowed scope and shared by every viewer who may see the region with the same grants
    (a province leader opening a county, and that county's official). Otherwise (nothing resolved, or a
    region only partly inside the scope, as a county for a viewer scoped to one of its townships) it is
    memoized on the viewer's own scope. The scope is still applied inside ``fn`` (deny by default)."""
    def decorate(fn):
        from data_access.cache import memoize
        memo = memoize(fn)

        @functools.wraps(fn)
        def wrapper(scope, region=None, *args, **kwargs):
            code = resolve(scope, region)
            if code is None or not scope.allows(code):
                return memo(scope, region, *args, **kwargs)
            return memo(scope.narrowed(code), code, *args, **kwargs)

        wrapper.uncached = fn
        return wrapper
    return decorate


def memoize_in_region(fn):
    """``memoize_narrowed`` to the region a page shows, ``resolve_region(scope, region)`` (always inside
    the scope)."""
    return memoize_narrowed(resolve_region)(fn)
