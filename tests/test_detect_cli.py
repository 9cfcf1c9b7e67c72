"""`manage.py detect` on its own refreshes what the pages read: the clue roll-ups and the cache."""
from __future__ import annotations

from sqlalchemy import text

import manage
from core.db import get_engine
from data_access.cache import data_version
from pipeline.importer import import_package


def test_detect_rebuilds_clue_rollups_and_invalidates_the_cache(tmp_path, pkg_dir, capsys):
    url = f"sqlite:///{tmp_path / 'd.sqlite'}"
    engine = get_engine(url)
    import_package(pkg_dir, engine, run_detect=False)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM clues")).scalar() == 0
    before = data_version()
    assert manage.main(["detect", "--database-url", url]) == 0
    with engine.connect() as conn:
        n_clues = conn.execute(text("SELECT COUNT(*) FROM clues")).scalar()
        rolled = conn.execute(text("SELECT COALESCE(SUM(n_clues), 0) FROM agg_clues WHERE level = 'province'")).scalar()
    assert n_clues > 0
    assert rolled == n_clues          # every clue is counted once at the province level
    assert data_version() > before
    assert "clues in" in capsys.readouterr().out
