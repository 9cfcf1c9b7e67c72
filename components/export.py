"""One way to hand a table to the browser as a file: UTF-8 CSV with a BOM (so Excel opens Chinese
text correctly) or an XLSX workbook. Every page's export goes through ``download``."""
from __future__ import annotations

import io
import re

import pandas as pd
from dash import dcc


def download(df: pd.DataFrame, fmt: str, basename: str, sheet: str = "data") -> dict:
    """A dcc.Download payload of ``df`` as ``basename.csv`` or ``basename.xlsx``."""
    name = re.sub(r"[^\w.-]+", "_", basename)[:80] or "export"
    if fmt == "xlsx":
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xw:
            df.to_excel(xw, index=False, sheet_name=sheet[:31] or "data")
        return dcc.send_bytes(buf.getvalue(), f"{name}.xlsx")
    return dict(content="\ufeff" + df.to_csv(index=False), filename=f"{name}.csv", type="text/csv", base64=False)
