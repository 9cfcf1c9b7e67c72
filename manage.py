#!/usr/bin/env python
"""Command line of the dashboard: generate, import, detect, users, bench, run.

    python manage.py generate --scale demo --seed 1 --out out/demo
    python manage.py import out/demo
    python manage.py detect [--evaluate truth.csv] [--export clues.csv]
    python manage.py rollups                               (rebuild every roll-up, e.g. after an upgrade)
    python manage.py users create NAME --role analyst --scope 430421 [--person-id ID]
    python manage.py complaints subjects subjects.csv     (who complaints are about)
    python manage.py bench {generate,import,detect,dashboard,pipeline}

Each command lives in its own module, which exposes ``add_cli(subparsers)``; the parser it
registers carries ``func``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "pipeline.generator",
    "pipeline.importer",
    "pipeline.rules.cli",
    "core.auth_cli",
    "pipeline.bench",
    "pipeline.demo",
    "pipeline.complaint_subjects",
    "pipeline.rollups",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that part is not there (yet)
            raise
        mod.add_cli(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
