"""diskcache memoization for data_access, shared by all worker processes.

Keys: the function's qualified name, its arguments (the viewer's Scope included, which is a frozen
dataclass) and the data version (bumped by every import), so an import invalidates everything.
"""
from __future__ import annotations

import functools
import hashlib
import os
import pickle

import diskcache

from core.settings import get_settings

_cache: diskcache.Cache | None = None
_cache_dir: str | None = None


def get_cache() -> diskcache.Cache:
    global _cache, _cache_dir
    d = str(get_settings().cache_dir)
    if _cache is None or _cache_dir != d:
        os.makedirs(d, exist_ok=True)
        _cache = diskcache.Cache(d, size_limit=2 ** 30)
        _cache_dir = d
    return _cache


def _request_memo() -> dict | None:
    """The web request's own memo (flask.g), None outside a request: within one request the data version
    is read once and a memoized answer asked again with the same key is not read from disk again."""
    try:
        from flask import g, has_request_context
    except ImportError:                                   # pragma: no cover (flask is a dependency)
        return None
    if not has_request_context():
        return None
    memo = g.get("_data_memo")
    if memo is None:
        memo = g._data_memo = {}
    return memo


def data_version() -> int:
    memo = _request_memo()
    if memo is not None and "__data_version__" in memo:
        return memo["__data_version__"]
    version = int(get_cache().get("__data_version__", 0))
    if memo is not None:
        memo["__data_version__"] = version
    return version


def invalidate() -> None:
    c = get_cache()
    version = data_version() + 1
    c.clear()
    c.set("__data_version__", version)
    memo = _request_memo()
    if memo is not None:
        memo.clear()


def _person_key(person_id: str) -> tuple:
    return ("__person_version__", person_id)


def _person_versions(c, args) -> tuple:
    """For a viewer linked to an ID number (Scope.person_id), the version of what is recorded about
    that person (complaint subjects): recording a subject re-keys that viewer's entries only."""
    return tuple(int(c.get(_person_key(a.person_id), 0)) for a in args
                 if getattr(a, "person_id", None) and hasattr(a, "region_code"))


def invalidate_person(person_id: str) -> None:
    """Forget what was cached for viewers linked to ``person_id`` (everyone else keeps theirs)."""
    c = get_cache()
    key = _person_key(str(person_id))
    c.set(key, int(c.get(key, 0)) + 1)


def _digest(key: tuple) -> str:
    """The cache key as a short string: diskcache stores other keys pickled and run through
    pickletools.optimize, which cost ~1 ms per lookup of a key holding a Scope (a cold page makes
    dozens). 128 bits of BLAKE2b over the pickle: a collision is not a practical concern."""
    return hashlib.blake2b(pickle.dumps(key, protocol=pickle.HIGHEST_PROTOCOL), digest_size=16).hexdigest()


def memoize(fn):
    """Memoize on (name, args, kwargs, database, data version). Disabled with CACHE_DISABLED=1."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if os.environ.get("CACHE_DISABLED") == "1":
            return fn(*args, **kwargs)
        c = get_cache()
        key = _digest((name, get_settings().database_url, data_version(), _person_versions(c, args),
                       args, tuple(sorted(kwargs.items()))))
        memo = _request_memo()
        if memo is not None and key in memo:
            return memo[key]
        hit = c.get(key, default=_MISS)
        if hit is _MISS:
            hit = fn(*args, **kwargs)
            c.set(key, hit)
        if memo is not None:
            memo[key] = hit
        return hit

    wrapper.uncached = fn
    return wrapper


def memoize_in_request(fn):
    """Memoized within one web request only, never on disk: for a cheap function over memoized parts whose
    answer would repeat theirs on disk (flows.flow is the viewer's fund list plus ``_flow_under``'s nodes:
    writing it again cost ~1 ms a city, ~1.4 MB for the province). Outside a request, or with
    CACHE_DISABLED=1, it is computed at every call."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        memo = _request_memo()
        if memo is None or os.environ.get("CACHE_DISABLED") == "1":
            return fn(*args, **kwargs)
        key = ("__request__", _digest((name, args, tuple(sorted(kwargs.items())))))
        if key not in memo:
            memo[key] = fn(*args, **kwargs)
        return memo[key]

    wrapper.uncached = fn
    return wrapper


class _Miss:
    pass


_MISS = _Miss()
