"""Within one web request a memoized answer is read from the disk cache once (data_access.cache): the
flow page asks the viewer's fund list three times, and every memoized call asked the data version."""
import diskcache
from flask import Flask

from data_access import cache


def _counting_gets(monkeypatch) -> list:
    gets = []
    real = diskcache.Cache.get

    def get(self, key, *a, **k):
        gets.append(key)
        return real(self, key, *a, **k)
    monkeypatch.setattr(diskcache.Cache, "get", get)
    return gets


def test_a_request_reads_each_answer_once_and_an_invalidation_inside_it_is_seen(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "c"))
    calls = []

    @cache.memoize
    def probe(x):
        calls.append(x)
        return {"x": x, "n": len(calls)}

    probe(1)                                              # computed and stored, outside any request
    gets = _counting_gets(monkeypatch)
    app = Flask(__name__)
    with app.test_request_context("/"):
        first = probe(1)
        assert first == {"x": 1, "n": 1} and calls == [1]   # from the disk cache
        reads = len(gets)
        assert probe(1) is first and probe(1) is first
        assert len(gets) == reads                         # asked again: not read from disk again
        assert gets.count("__data_version__") == 1        # the data version read once in the request
        assert probe(2) == {"x": 2, "n": 2}               # another key is its own answer
        cache.invalidate()                                # e.g. an analyst's action in this request
        assert probe(1) == {"x": 1, "n": 3}               # recomputed at the new version
    with app.test_request_context("/"):
        again = probe(1)
        assert again == {"x": 1, "n": 3} and again is not first and len(calls) == 3
    # outside a request every call reads the disk cache (each caller gets its own copy)
    a, b = probe(1), probe(1)
    assert a == b and a is not b and len(calls) == 3


def test_requests_do_not_share_their_memo(tmp_path, monkeypatch):
    """Another request after an import (the version bumped by another process) sees the new data."""
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "c"))
    state = {"v": "old"}

    @cache.memoize
    def probe():
        return state["v"]

    app = Flask(__name__)
    with app.test_request_context("/"):
        assert probe() == "old"
    state["v"] = "new"
    cache.invalidate()                                    # outside any request, as an import does
    with app.test_request_context("/"):
        assert probe() == "new"


def test_a_request_only_answer_is_kept_for_the_request_and_never_written(tmp_path, monkeypatch):
    """flows.flow repeats _flow_under's nodes: it is memoized for the request only (memoize_in_request)."""
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "c"))
    calls = []

    @cache.memoize_in_request
    def probe(x):
        calls.append(x)
        return [x]

    stored = len(cache.get_cache())
    app = Flask(__name__)
    with app.test_request_context("/"):
        first = probe(1)
        assert probe(1) is first and calls == [1]
        assert probe(2) == [2] and calls == [1, 2]
    assert len(cache.get_cache()) == stored               # nothing on disk
    with app.test_request_context("/"):
        assert probe(1) == [1] and calls == [1, 2, 1]     # the next request computes it again
    assert probe(1) == [1] and calls == [1, 2, 1, 1]      # outside a request: every call
