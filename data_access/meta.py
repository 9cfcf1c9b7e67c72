"""Package metadata and region lookups for the shell (as-of date, synthetic flag, breadcrumb)."""
from __future__ import annotations

from sqlalchemy import select

from core import schema
from core.scope import Scope, ancestors
from data_access.base import read_df, region_names, resolve_region
from data_access.cache import memoize


def package_info(scope: Scope) -> dict | None:
    """The latest imported package: as_of_date, synthetic, source. None for an empty scope or no data."""
    if scope is None or scope.is_empty:
        return None
    return _latest_package()


@memoize
def _latest_package() -> dict | None:
    """What package_info says to every viewer with a scope: read once per data version, not once per
    scope (the complaints' helpers ask it with each region's narrowed scope)."""
    df = read_df(select(schema.packages.c.as_of_date, schema.packages.c.synthetic, schema.packages.c.source)
                 .order_by(schema.packages.c.id.desc()).limit(1))
    if df.empty:
        return None
    row = df.iloc[0]
    return {"as_of_date": str(row["as_of_date"])[:10], "synthetic": bool(row["synthetic"]), "source": row["source"]}


@memoize
def breadcrumb(scope: Scope, region: str | None) -> list[dict]:
    """[{code, name, level}] from the scope's own region down to ``region`` (never above the scope)."""
    code = resolve_region(scope, region)
    if code is None:
        return []
    chain = [c for c in ancestors(code) if scope.allows(c)]
    names = region_names(chain)
    from core.scope import level_of
    return [{"code": c, "name": names.get(c, c), "level": level_of(c)} for c in chain]
