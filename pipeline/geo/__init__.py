"""Reference geography of Hunan (derived from public npm packages; see scripts/build_geography.py)."""
