"""Benchmark 2, "tenant resolution overhead per request".

Times the tenant middleware on pre-built requests for `<sub>.<CRM_BASE_DOMAIN>` against
calling the same trivial view with no middleware at all; the difference is the cost of
resolving the tenant (host check, cache lookup, connection.set_tenant, URL routing).
django-tenants' stock TenantMainMiddleware, which queries the Domain table on every
request, is measured the same way as the reference. Batches of the three are
interleaved so that drift (CPU frequency, other processes) hits them alike.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from time import perf_counter_ns

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.http.request import validate_host
from django.test import RequestFactory
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.middleware import TenantMiddleware
from tenants.models import Domain, Tenant
from tenants.provisioning import pool_claim, pool_refill
from tenants.resolution import host_cache

from .stats import Check, Ratio, Section, Series

# design.md: "tenant resolution per request <= 0.2 ms, 0 queries when warm".
OVERHEAD_LIMIT_US = 200.0
SUBDOMAIN = "benchhost"
_RESPONSE = HttpResponse(b"ok")


@dataclass(frozen=True)
class Sizes:
    batch_size: int = 100
    # 100k requests (~2 s): spans the host cache's once-a-second generation check.
    batches: int = 1000
    stock_batch_size: int = 25
    stock_batches: int = 80  # 2k requests: ~1 ms each
    stock_count_requests: int = 200


def trivial_view(request):
    return _RESPONSE


class QueryCounter:
    """connection.execute_wrapper hook; sees every statement, SET search_path included."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _tenant_host() -> str:
    """A live company with a Domain, taken from the warm pool like a signup."""
    connection.set_schema_to_public()
    host = f"{SUBDOMAIN}.{settings.CRM_BASE_DOMAIN}"
    if not validate_host(host, settings.ALLOWED_HOSTS):
        raise RuntimeError(f"{host} is not in ALLOWED_HOSTS {settings.ALLOWED_HOSTS}")
    pool_refill(target=1)
    with transaction.atomic():
        tenant = pool_claim()
        tenant.status, tenant.name, tenant.subdomain = Tenant.Status.TRIAL, "Bench", SUBDOMAIN
        tenant.save(update_fields=["status", "name", "subdomain", "updated_at"])
        Domain.objects.create(domain=host, tenant=tenant, is_primary=True)
    return host


def _count_queries(handler, requests: list) -> float:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        for request in requests:
            handler(request)
    return counter.count / len(requests)


def _warm_up(handler, requests: list, seconds: float) -> None:
    """Run long enough for the host cache's periodic generation check to have happened
    after the last write, so the timed loop sees the steady state."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for request in requests[:100]:
            handler(request)


def _time_interleaved(
    handlers: dict[str, Series], calls: dict, requests: list, batch_size: int, batches: int
) -> None:
    """Per batch and per handler, the mean ns per request (perf_counter_ns around the
    batch, so the timer's own cost is spread over `batch_size` calls)."""
    chunks = [requests[i : i + batch_size] for i in range(0, len(requests), batch_size)]
    chunks = [chunk for chunk in chunks if len(chunk) == batch_size]
    gc.collect()
    for index in range(batches):
        chunk = chunks[index % len(chunks)]
        for key, series in handlers.items():
            call = calls[key]
            start = perf_counter_ns()
            for request in chunk:
                call(request)
            series.add((perf_counter_ns() - start) / batch_size)


def run(sizes: Sizes, progress) -> Section:
    section = Section("tenant_resolution", "Benchmark 2: tenant resolution per request")
    host = _tenant_host()
    factory = RequestFactory(HTTP_HOST=host)
    requests = [factory.get("/bench/ping/") for _ in range(max(sizes.batch_size, 10) * 20)]

    project = TenantMiddleware(trivial_view)
    stock = TenantMainMiddleware(trivial_view)
    section.facts["host"] = host

    # A cold request: host not cached yet (SET search_path + one Domain/Tenant SELECT).
    host_cache.clear_local()
    section.facts["queries_cold_request"] = _count_queries(project, requests[:1])

    progress("warming the host cache")
    _warm_up(project, requests, settings.TENANT_CACHE_CHECK_SECONDS * 1.5)

    baseline = Series("no_middleware", "no tenant middleware (view only)", unit="us")
    ours = Series("tenant_middleware", "tenants.middleware.TenantMiddleware", unit="us")
    progress(f"{sizes.batches * sizes.batch_size} requests, project middleware")
    # Counted during the timed loop itself: the wrapper costs nothing while no query runs.
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        _time_interleaved(
            {"baseline": baseline, "ours": ours},
            {"baseline": trivial_view, "ours": project},
            requests,
            sizes.batch_size,
            sizes.batches,
        )
    queries_warm = counter.count / (sizes.batches * sizes.batch_size)
    # Counted apart: here the wrapper would add its own cost to every query timed.
    queries_stock = _count_queries(stock, requests[: sizes.stock_count_requests])
    section.facts["queries_per_warm_request"] = queries_warm
    section.facts["queries_per_request_stock"] = queries_stock

    stock_baseline = Series(
        "no_middleware_stock_run", "no tenant middleware (stock run)", unit="us"
    )
    stock_series = Series("stock_middleware", "django-tenants TenantMainMiddleware", unit="us")
    progress(f"{sizes.stock_batches * sizes.stock_batch_size} requests, stock middleware")
    _time_interleaved(
        {"baseline": stock_baseline, "stock": stock_series},
        {"baseline": trivial_view, "stock": stock},
        requests,
        sizes.stock_batch_size,
        sizes.stock_batches,
    )
    connection.set_schema_to_public()
    set_urlconf(None)

    # Means, not medians: the once-a-second Redis generation check is part of the cost.
    overhead_ours = ours.mean - baseline.mean
    overhead_stock = stock_series.mean - stock_baseline.mean
    section.facts["overhead_us_tenant_middleware"] = round(overhead_ours, 3)
    section.facts["overhead_us_stock_middleware"] = round(overhead_stock, 3)
    section.series = [baseline, ours, stock_baseline, stock_series]
    section.ratios = [
        Ratio(
            "stock / project middleware overhead",
            overhead_stock / overhead_ours,
            "mean per request",
        ),
        Ratio(
            "project middleware / no middleware",
            ours.mean / baseline.mean,
            "mean per request, trivial view",
        ),
    ]
    section.checks = [
        Check("project middleware overhead", overhead_ours, OVERHEAD_LIMIT_US, "us"),
        Check("queries per warm request", queries_warm, 0, "queries"),
    ]
    return section
