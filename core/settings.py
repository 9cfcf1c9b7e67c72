"""Settings, read once from the environment. Thresholds of the clue rules live here too, never as literals in code."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", ROOT / "data"))


def _env_bool(name: str, default: bool = False) -> bool:
    v = os.environ.get(name)
    return default if v is None else v.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of clue-rules.md (defaults as the spec gives them)."""
    off_standard_tolerance: float = 0.01        # R10
    stagnant_days: int = 180                    # R11
    stagnant_share: float = 0.5                 # R11
    retained_days_after_year: int = 180         # R12
    retained_share: float = 0.02                # R12
    beyond_progress_tolerance: float = 0.01     # R13
    before_acceptance_share: float = 0.9        # R14
    approval_amount: float = 5000.0             # R16, R18
    late_booking_days: int = 30                 # R17
    split_min_count: int = 3                    # R18
    split_window_days: int = 7                  # R18
    invoice_tolerance: float = 0.01             # R20
    invoice_required_amount: float = 1000.0     # R20
    accept_days: int = 7                        # R22
    close_months: int = 3                       # R23
    close_months_extended: int = 4              # R23
    flood_share: float = 0.05                   # "check the rule or the data"
    benford_min_count: int = 300                # I02
    benford_nonconformity: float = 0.015        # I02
    round_amount_unit: float = 1000.0           # I03
    means_tested: tuple = ("subsistence_allowance", "extreme_poverty_support", "housing_renovation",
                           "education_aid", "medical_aid")


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get(
        "DATABASE_URL", f"sqlite:///{DATA_DIR / 'dashboard.sqlite'}"))
    cache_dir: Path = field(default_factory=lambda: Path(os.environ.get("CACHE_DIR", DATA_DIR / "cache")))
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REDIS_URL") or None)
    secret_key: str | None = field(default_factory=lambda: os.environ.get("SECRET_KEY") or None)
    env: str = field(default_factory=lambda: os.environ.get("APP_ENV", "production"))
    default_lang: str = "zh"
    rules: RuleSettings = field(default_factory=RuleSettings)

    @property
    def is_development(self) -> bool:
        return self.env in ("development", "test")


_ENV_KEYS = ("DATABASE_URL", "CACHE_DIR", "REDIS_URL", "SECRET_KEY", "APP_ENV")
_last: tuple[tuple, Settings] | None = None


def get_settings() -> Settings:
    """The settings for the current environment. Built again only when one of the variables they read
    changes (tests and the command line set them at run time); a callback asks a dozen times."""
    global _last
    env = tuple(os.environ.get(k) for k in _ENV_KEYS)
    last = _last
    if last is not None and last[0] == env:
        return last[1]
    s = Settings()
    _last = (env, s)
    return s
