"""The overview's monthly trend: months along the axis in calendar order, whatever the categories."""
from __future__ import annotations

import pandas as pd


def test_the_trend_lists_the_months_in_calendar_order():
    """With a category paid quarterly (01, 04, 07, 10), a plain category axis listed the months as the traces
    first named them, not in calendar order (seen on a county's overview)."""
    from components.overview import trend_figure
    df = pd.DataFrame({"period": ["2023-01", "2023-02", "2023-03", "2023-04", "2023-07", "2023-05", "2023-10"],
                       "category": ["subsistence_allowance", "other", "other", "subsistence_allowance", "subsistence_allowance", "other", "subsistence_allowance"],
                       "n_payments": 1, "amount": [10.0, 2.0, 3.0, 4.0, 5.0, 6.5, 7.0]})
    fig = trend_figure(df.sort_values("period"), "zh")
    axis = fig["layout"]["xaxis"]
    assert axis["categoryorder"] == "array"
    assert axis["categoryarray"] == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-07", "2023-10"]
    quarterly = next(d for d in fig["data"] if d["x"][0] == "2023-01")
    assert quarterly["x"] == ["2023-01", "2023-04", "2023-07", "2023-10"] and quarterly["y"] == [10.0, 4.0, 5.0, 7.0]
