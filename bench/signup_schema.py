"""Benchmark 1, "signup schema step": how long signup waits for a tenant schema.

Compared: (a) claiming a pre-built schema from the warm pool (what signup does),
(b) building one pooled schema by replaying the template's SQL (what the pool refill
does in the background), and django-tenants' stock ways to build a schema at signup:
(c) `create_schema()` running migrations and (d) `CloneSchema` copying the template.
(c) and (d) are sampled at a few and at ~250 tenant schemas, because their cost grows
with the catalog; (b) is sampled at both ends too, to show it stays flat.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import timedelta
from time import perf_counter_ns

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.clone import CloneSchema

from tenants.models import TEMPLATE_SCHEMA_NAME, Tenant, new_schema_name
from tenants.provisioning import pool_claim, pool_refill, template_sql

from .stats import Check, Ratio, Section, Series

# design.md: "signup schema step p50 <= 20 ms", "provisioning p50 <= 100 ms".
CLAIM_P50_LIMIT_MS = 20.0
REFILL_P50_LIMIT_MS = 100.0


@dataclass(frozen=True)
class Sizes:
    claims: int = 30
    refills: int = 30
    # Enough extra pooled schemas that growth with the catalog shows (~1 MB, ~65 ms each).
    extra_tenants: int = 150
    stock_samples: int = 7


def tenant_schema_count() -> int:
    """Tenant schemas in the catalog (pooled, claimed, or built by the stock paths)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname ~ '^t_[0-9a-f]{16}$'")
        return cursor.fetchone()[0]


def verify_schemas() -> int:
    """Every built schema must have the template's tables, indexes and sequences: a fast
    path that silently built less would be a meaningless number. Returns schemas checked."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname, count(c.oid) FROM pg_namespace n"
            " LEFT JOIN pg_class c ON c.relnamespace = n.oid"
            " WHERE n.nspname ~ '^t_[0-9a-f]{16}$' OR n.nspname = %s GROUP BY n.nspname",
            [TEMPLATE_SCHEMA_NAME],
        )
        relations = dict(cursor.fetchall())
    expected = relations.pop(TEMPLATE_SCHEMA_NAME)
    wrong = {name: count for name, count in relations.items() if count != expected}
    if wrong:
        raise RuntimeError(f"schemas unlike the template ({expected} relations): {wrong}")
    return len(relations)


def template_objects() -> dict[str, int]:
    """What a replay creates, by kind: its cost is catalog work per object (design.md's
    target was set on a smaller template), so the figures are read against these."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE c.relkind = 'r'),"
            " count(*) FILTER (WHERE c.relkind = 'i'),"
            " count(*) FILTER (WHERE c.relkind = 'S'),"
            " count(*) FILTER (WHERE c.relkind = 'r' AND c.reltoastrelid <> 0),"
            " (SELECT count(*) FROM pg_constraint k WHERE k.connamespace = n.oid"
            "  AND k.contype = 'f')"
            " FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid"
            " WHERE n.nspname = %s GROUP BY n.oid",
            [TEMPLATE_SCHEMA_NAME],
        )
        tables, indexes, sequences, toast, foreign_keys = cursor.fetchone()
    return {
        "template_tables": tables,
        "template_toast_tables": toast,
        "template_indexes": indexes,
        "template_sequences": sequences,
        "template_foreign_keys": foreign_keys,
    }


def _prime() -> None:
    """Open the connection and set the search_path before a sample, so a reconnect
    (migrate_schemas closes the connection) is never billed to the next sample."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    gc.collect()


def _pooled_count() -> int:
    return Tenant.objects.filter(status=Tenant.Status.POOLED).count()


def sample_claims(series: Series, count: int) -> None:
    """Claim as signup does: lock a pooled tenant, mark it a trial company, commit."""
    for index in range(count):
        pool_refill(target=settings.TENANT_POOL_SIZE)  # as the background refill would
        tenants = tenant_schema_count()
        _prime()
        start = perf_counter_ns()
        with transaction.atomic():
            tenant = pool_claim()
            if tenant is None:
                raise RuntimeError("warm pool is empty after a refill")
            tenant.status = Tenant.Status.TRIAL
            tenant.name, tenant.subdomain = f"Bench claim {index}", f"claim{index}"
            tenant.trial_ends_at = timezone.now() + timedelta(days=settings.TENANT_TRIAL_DAYS)
            tenant.save(
                update_fields=["name", "subdomain", "status", "trial_ends_at", "updated_at"]
            )
        series.add(perf_counter_ns() - start, tenants)


def sample_refills(series: Series, count: int) -> None:
    """One pooled schema per sample, through the real refill entry point."""
    for _ in range(count):
        target = _pooled_count() + 1
        tenants = tenant_schema_count()
        _prime()
        start = perf_counter_ns()
        built = pool_refill(target=target)
        series.add(perf_counter_ns() - start, tenants)
        if built != 1:
            raise RuntimeError(f"pool_refill built {built} schemas, expected 1")


def sample_stock_migrate(series: Series, count: int) -> None:
    """django-tenants' auto_create_schema path: CREATE SCHEMA + migrate_schemas."""
    for _ in range(count):
        tenant = Tenant(schema_name=new_schema_name(), status=Tenant.Status.PROVISIONING)
        tenants = tenant_schema_count()
        _prime()
        start = perf_counter_ns()
        tenant.create_schema(check_if_exists=True, verbosity=0)
        series.add(perf_counter_ns() - start, tenants)


def sample_stock_clone(series: Series, count: int) -> None:
    """django-tenants' clone_schema() SQL function, copying the migrated template."""
    cloner = CloneSchema()
    for _ in range(count):
        schema_name = new_schema_name()
        tenants = tenant_schema_count()
        _prime()
        start = perf_counter_ns()
        cloner.clone_schema(
            base_schema_name=TEMPLATE_SCHEMA_NAME, new_schema_name=schema_name, set_connection=False
        )
        series.add(perf_counter_ns() - start, tenants)


def run(sizes: Sizes, progress) -> Section:
    section = Section("signup_schema", "Benchmark 1: signup schema step")
    connection.set_schema_to_public()

    start = perf_counter_ns()
    template_sql()  # migrates the template and takes its snapshot: one-off, not sampled
    pool_refill(target=settings.TENANT_POOL_SIZE)
    section.facts["template_setup_s"] = round((perf_counter_ns() - start) / 1e9, 2)
    section.facts["pool_size"] = settings.TENANT_POOL_SIZE
    section.facts.update(template_objects())

    claim = Series("claim", "(a) claim from warm pool + mark claimed")
    refill = Series("refill", "(b) refill: template replay, 1 schema")
    refill_many = Series("refill_many", "(b) refill at more tenants")
    migrate_few = Series("migrate_few", "(c) stock migrate, few tenants")
    clone_few = Series("clone_few", "(d) stock clone, few tenants")
    migrate = Series("migrate", "(c) stock migrate (create_schema)")
    clone = Series(
        "clone",
        "(d) stock clone (CloneSchema)",
        note="clone_schema() only; stock create_schema also runs migrate --fake",
    )

    progress("stock paths at a few tenants")
    sample_stock_migrate(migrate_few, sizes.stock_samples)
    sample_stock_clone(clone_few, sizes.stock_samples)
    progress(f"{sizes.claims} claims from the warm pool")
    sample_claims(claim, sizes.claims)
    progress(f"{sizes.refills} pool refills")
    sample_refills(refill, sizes.refills)
    progress(f"{sizes.extra_tenants} more pooled tenants")
    sample_refills(refill_many, sizes.extra_tenants)
    progress("stock paths at more tenants")
    sample_stock_migrate(migrate, sizes.stock_samples)
    sample_stock_clone(clone, sizes.stock_samples)
    connection.set_schema_to_public()
    section.facts["tenant_schemas_at_end"] = tenant_schema_count()
    section.facts["schemas_verified_like_template"] = verify_schemas()

    section.series = [claim, refill, refill_many, migrate_few, migrate, clone_few, clone]
    section.ratios = [
        Ratio("stock migrate / claim", migrate.p50 / claim.p50, "p50, at more tenants"),
        Ratio("stock clone / claim", clone.p50 / claim.p50, "p50, at more tenants"),
        Ratio("stock migrate / template replay", migrate.p50 / refill.p50, "p50"),
        Ratio("stock clone / template replay", clone.p50 / refill.p50, "p50"),
        Ratio(
            "stock migrate growth",
            migrate.p50 / migrate_few.p50,
            f"p50 at {migrate.tenant_range} vs {migrate_few.tenant_range} tenants",
        ),
        Ratio(
            "stock clone growth",
            clone.p50 / clone_few.p50,
            f"p50 at {clone.tenant_range} vs {clone_few.tenant_range} tenants",
        ),
        Ratio(
            "template replay growth",
            refill_many.p50 / refill.p50,
            f"p50 at {refill_many.tenant_range} vs {refill.tenant_range} tenants",
        ),
    ]
    section.checks = [
        Check("claim p50", claim.p50, CLAIM_P50_LIMIT_MS, "ms"),
        Check("refill per tenant p50", refill.p50, REFILL_P50_LIMIT_MS, "ms"),
        Check(
            f"refill per tenant p50 at {refill_many.tenant_range} tenants",
            refill_many.p50,
            REFILL_P50_LIMIT_MS,
            "ms",
        ),
    ]
    return section
