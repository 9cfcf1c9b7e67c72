"""The vectorised ID-number check (core.idnumber.valid_mask) says exactly what the one-by-one check says."""
from __future__ import annotations

import datetime as dt
import json
import random

import numpy as np
import pandas as pd
import pyarrow as pa

from core.idnumber import is_valid, make_id, valid_mask


def _cases() -> list:
    rng = random.Random(7)
    good = [make_id("430726", dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000)), rng.randrange(1000))
            for _ in range(3000)]
    out = []
    for g in good:
        out.append(g)
        out.append(g[:17] + ("0" if g[17] != "0" else "1"))        # a wrong check digit
        if g.endswith("X"):
            out.append(g[:17] + "x")                                 # a lower-case x is read as X
    out += [None, "", "4307261964082300", "4307261964082300101", "43072619640823001", "a30726196408230010",
            "４３０７２６１９６４０８２３００１０", "4307261964082300\u0661" + "0", "43072619640823001é",
            " 430726196408230010", "43072619640823001 "]
    rng.shuffle(out)
    return out


def test_valid_mask_agrees_with_the_one_by_one_check():
    values = _cases()
    expect = [is_valid(v) if v is not None else False for v in values]
    assert sum(expect) > 1000 and len(expect) - sum(expect) > 1000
    assert valid_mask(values).tolist() == expect
    arr = pa.array(values, type=pa.string())
    assert valid_mask(arr.slice(5, 1000)).tolist() == expect[5:1005]            # a slice of an Arrow array
    chunked = pa.chunked_array([arr.slice(0, 10), arr.slice(10)])
    assert valid_mask(chunked).tolist() == expect
    assert valid_mask(pa.array(values, type=pa.large_string())).tolist() == expect
    assert valid_mask(pd.Series(values, dtype=pd.ArrowDtype(pa.string()))).tolist() == expect
    only18 = [v for v in values if isinstance(v, str) and len(v.encode()) == 18]   # the all-18-bytes fast path
    assert valid_mask(only18).tolist() == [is_valid(v) for v in only18]
    assert valid_mask([]).dtype == np.bool_ and len(valid_mask([])) == 0


def test_the_quick_id_scan_finds_what_the_pattern_finds():
    """full_id_numbers skips texts without 18 ASCII digits in a row or 17 and an X (core.security.may_hold_id_numbers):
    on texts built around every case above (alone, in JSON, between CJK text, inside longer digit runs,
    among coordinates), it returns exactly what the pattern alone returns. The privacy tests rely on it."""
    from core.security import ID_RE, full_id_numbers

    def by_pattern(text):
        return [m.group(0) for m in ID_RE.finditer(text) if is_valid(m.group(0).upper())]

    rng = random.Random(11)
    pieces = [v for v in _cases() if v]
    fillers = ["", " ", "，", "张三", '{"id":"', '"}', "112.98765432101", "1", "x", "\n", "身份证", "０"]
    texts = []
    for _ in range(4000):
        parts = [rng.choice(fillers) for _ in range(rng.randrange(1, 4))]
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(pieces))
        texts.append("".join(parts))
    texts += ["[112.123456789012345,28.1]", "", "1234567890123456", "12345678901234567",
              '[[0.14285714285714285,"#d9d9d9"]]']
    found = 0
    for text in texts:
        expect = by_pattern(text)
        assert full_id_numbers(text) == expect, text
        found += bool(expect)
    assert found > 500 and len(texts) - found > 500


def test_the_quick_id_scan_passes_over_json_floats():
    """A float's repr has at most 17 digits after its point: a colour scale in sevenths and a map's
    coordinates are not scanned by the pattern (they were, on every choropleth: ~10 ms a map)."""
    from core.security import may_hold_id_numbers
    floats = [i / 7 for i in range(8)] + [112.12345678901234, 1 / 3, 2 ** 0.5, 1e-7 / 3, 123456789.12345678]
    text = json.dumps({"colorscale": [[v, "#d9d9d9"] for v in floats], "z": floats})
    assert "14285714285714285" in text and not may_hold_id_numbers(text)
    valid = next(v for v in _cases() if v and len(v) == 18 and is_valid(v.upper()))
    assert may_hold_id_numbers(text + valid) and may_hold_id_numbers(valid[:17] + "x")
