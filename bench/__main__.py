"""`make bench`: set up crm_bench, run the benchmarks, print the table, write JSON."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter_ns

from . import database

# Benchmark modules, in running order; each has `Sizes` and `run(sizes, progress)`.
MODULES = (
    "signup_schema",
    "tenant_resolution",
    "crm_list",
    "crm_import",
    "crm_search",
    "custom_fields",
    "workflows",
    "webhooks",
    "billing",
    "lead_to_cash",
)


def _progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


def _configure() -> None:
    """Point Django at crm_bench; must run before settings are imported."""
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("DATABASE_URL is unset: run `make bench` (it starts PostgreSQL)")
    os.environ["DATABASE_URL"] = database.recreate(database_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_platform.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # pool refills log at INFO
    # As in production, no task results are stored (CRM_TESTING keeps them for tests,
    # at a Redis write per task and a subscription per publish); the workers the
    # benchmarks start inherit this environment.
    os.environ.setdefault("CELERY_RESULT_BACKEND", "")

    import django

    django.setup()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--output", type=Path, help="JSON summary (bench/results/latest.json)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    # Defaults live in signup_schema.Sizes (importable only once Django is set up).
    parser.add_argument(
        "--extra-tenants",
        type=int,
        help="pooled schemas added before the second stock-path round (150)",
    )
    parser.add_argument(
        "--stock-samples",
        type=int,
        help="samples per round of the stock migrate and clone paths (7)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark module (repeatable), e.g. --only crm_list",
    )
    args = parser.parse_args(argv)

    started_at = datetime.now(tz=UTC)
    start = perf_counter_ns()
    _progress(f"recreating database {database.BENCH_DATABASE}")
    _configure()
    from django.db import connection

    from . import report, signup_schema

    setup_start = perf_counter_ns()
    database.bootstrap()
    setup_s = (perf_counter_ns() - setup_start) / 1e9
    _progress(f"migrated public schema in {setup_s:.1f} s")

    overrides = {"extra_tenants": args.extra_tenants, "stock_samples": args.stock_samples}
    signup_sizes = signup_schema.Sizes(**{k: v for k, v in overrides.items() if v is not None})
    sizes = {"signup_schema": signup_sizes}
    unknown = set(args.only or ()) - set(MODULES)
    if unknown:
        raise SystemExit(f"unknown benchmark {sorted(unknown)}; known: {', '.join(MODULES)}")
    sections = []
    for name in MODULES:
        if args.only and name not in args.only:
            continue
        module = importlib.import_module(f"bench.{name}")
        sections.append(module.run(sizes.get(name) or module.Sizes(), _progress))
    duration_s = (perf_counter_ns() - start) / 1e9
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgres": database.server_version(),
        "platform": platform.platform(),
    }
    connection.close()

    print()
    for section in sections:
        print(report.render(section))
        print()
    checks = [check for section in sections for check in section.checks]
    failed = [check.label for check in checks if not check.passed]
    print(
        f"{len(checks) - len(failed)}/{len(checks)} targets met"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
        + f". {machine['cpus']} CPUs, PostgreSQL {machine['postgres']}, "
        f"total {duration_s:.0f} s."
    )

    summary = {
        "started_at": started_at.isoformat(),
        "duration_s": round(duration_s, 1),
        "database": database.BENCH_DATABASE,
        "public_migrate_s": round(setup_s, 2),
        "machine": machine,
        "all_targets_met": not failed,
        "sections": {section.key: section.as_dict() for section in sections},
    }
    path = report.write_json(summary, args.output)
    print(f"JSON summary: {path}")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
