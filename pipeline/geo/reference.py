"""The shipped administrative divisions of Hunan (china-division 2.7.0, codes of 2023)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
PROVINCE_CODE = "430000000000"


@lru_cache(maxsize=1)
def _divisions() -> pd.DataFrame:
    return pd.read_csv(DATA / "hunan_divisions.csv.gz", dtype=str, keep_default_na=False)


def load_divisions() -> pd.DataFrame:
    """Columns code, name, level, parent_code (all str; parent_code '' for the province)."""
    return _divisions().copy()
