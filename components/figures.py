"""Figures as plain dicts (serialised by orjson), all sharing one template."""
from __future__ import annotations

FONT = "'Noto Sans CJK SC','Microsoft YaHei','PingFang SC','Helvetica Neue',Arial,sans-serif"
COLORWAY = ["#c0392b", "#2e6da4", "#e67e22", "#27ae60", "#8e44ad", "#16a085", "#d35400", "#7f8c8d",
            "#2c3e50", "#f1c40f", "#1abc9c", "#95a5a6"]

TEMPLATE = {
    "layout": {
        "font": {"family": FONT, "size": 13, "color": "#2b2b2b"},
        "colorway": COLORWAY,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 56, "r": 16, "t": 40, "b": 48},
        "xaxis": {"gridcolor": "#eee", "zeroline": False},
        "yaxis": {"gridcolor": "#eee", "zeroline": False},
        "legend": {"orientation": "h", "y": -0.22, "yanchor": "top", "x": 0},
        # a vertical mode bar on the right never covers the (left-aligned) title
        "modebar": {"orientation": "v", "bgcolor": "rgba(255,255,255,0.7)", "color": "#999", "activecolor": "#c0392b"},
        "hoverlabel": {"font": {"family": FONT}},
    }
}


def figure(data: list[dict], title: str = "", **layout) -> dict:
    lay = {"template": TEMPLATE, "title": {"text": title, "x": 0.01, "font": {"size": 15}}}
    lay.update(layout)
    return {"data": data, "layout": lay}


def empty_figure(message: str) -> dict:
    return figure([], xaxis={"visible": False}, yaxis={"visible": False},
                  annotations=[{"text": message, "showarrow": False, "font": {"size": 14, "color": "#888"},
                                "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}])
