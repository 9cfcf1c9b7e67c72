"""Callback responses go through orjson directly (core.fastjson): byte for byte what plotly's encoder
writes, for what our callbacks return and for what it cannot take itself (then plotly's encoder runs)."""
from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pytest
from dash import dcc, html
from plotly.io.json import to_json_plotly

from core.fastjson import make_encoder


def test_the_fast_encoder_writes_what_plotly_writes():
    from components.kpi import kpi_card
    from components.figures import figure
    enc = make_encoder(to_json_plotly)
    values = [
        {"a": [1, 2.5, None, float("nan"), float("inf"), np.int64(3), np.float64(1.5), np.bool_(True), True]},
        {"x": np.array([1.0, np.nan, 2.0]), "i": np.array([1, 2], dtype=np.int64), "o": np.array(["a", None], dtype=object)},
        [html.Div([html.Span("中文"), "x", dcc.Graph(figure={"data": []})], id="d"), kpi_card("标题", "1,234")],
        figure([{"type": "bar", "x": ["一", "二"], "y": [1.25, None]}], "图"),
        {"d": dt.date(2024, 1, 2), "dt": dt.datetime(2024, 1, 2, 3, 4, 5), "t": pd.Timestamp("2024-01-02")},
        {"nested": {"k": pd.NA, "ts": [pd.Timestamp("2024-01-02 03:04")]}},
        {"dec": decimal.Decimal("1.25")},                   # orjson refuses: plotly's encoder writes it
        {"multi": [{"props": {"children": None}}, "", 0, -0.0, 1e300, 12345678901234567890]},
    ]
    for v in values:
        assert enc(v) == to_json_plotly(v), v
    for v in ({"set": {1}},):                                        # neither takes this
        for f in (enc, to_json_plotly):
            with pytest.raises(TypeError):
                f(v)


def test_the_app_uses_it(dash_app):
    import dash._callback as dash_callback
    assert getattr(dash_callback.to_json, "fallback", None) is not None
