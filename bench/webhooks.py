"""Benchmark: outbound webhook deliveries to a local sink.

The product's path, `delivery_attempt` (claim the delivery, decrypt the endpoint's
secret, sign per Standard Webhooks, POST through the SSRF-guarded client, write the
attempt row and the delivery's outcome), is run by WORKERS threads as a Celery pool
would, against a plain POST loop of the same bodies to the same sink (no signing, no
database) in the same run. Then the sink is stopped half-way through a second batch and
restarted: every delivery must arrive (retries through `deliveries_due`, the sweep's
selector), none lost.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from time import perf_counter_ns

import httpx
import orjson
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.webhooks.receiver import Receiver

from .crm_import import company
from .stats import Check, Ratio, Section, Series

RATE_TARGET = 400.0  # deliveries per second
P95_TARGET_MS = 20.0
SUBDOMAIN = "benchhooks"


@dataclass(frozen=True)
class Sizes:
    deliveries: int = 4000
    workers: int = 4
    restart_deliveries: int = 400
    latency_deliveries: int = 1000


def _deliveries(endpoint, count: int, tag: str) -> list[int]:
    from webhooks.models import Delivery
    from webhooks.payloads import webhook_payload

    now = timezone.now()
    rows = Delivery.objects.bulk_create(
        Delivery(
            endpoint=endpoint,
            event_type="customer.updated",
            body=webhook_payload(
                event_type="customer.updated",
                occurred_at=now,
                data={"id": index, "name": f"{tag} 客户 {index}", "tags": ["a", "b"]},
            ),
            next_attempt_at=now,
        )
        for index in range(count)
    )
    return [row.pk for row in rows]


def _in_threads(tenant, ids: list[int], workers: int, work) -> tuple[list[float], float]:
    """Run work(id) over ids in `workers` threads (each its own connection, in the
    tenant); returns per-call latencies (ns) and the wall time (ns)."""
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [ids[i::workers] for i in range(workers)]

    def run(chunk):
        local = []
        try:
            with tenant_context(tenant):
                for item in chunk:
                    start = perf_counter_ns()
                    work(item)
                    local.append(perf_counter_ns() - start)
        finally:
            connections.close_all()
        with lock:
            latencies.extend(local)

    gc.collect()
    start = perf_counter_ns()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, chunks))
    return latencies, perf_counter_ns() - start


def _verify(ids: list[int], sink: Receiver) -> None:
    from webhooks.models import Delivery

    succeeded = Delivery.objects.filter(pk__in=ids, status="succeeded").count()
    if succeeded != len(ids) or len(sink.received) != len(ids):
        raise RuntimeError(f"{succeeded}/{len(ids)} delivered, sink got {len(sink.received)}")


def run(sizes: Sizes, progress) -> Section:
    from accounts.models import User
    from webhooks import services
    from webhooks.models import Delivery

    section = Section("webhooks", "Benchmark: webhook deliveries to a local sink")
    section.facts["load_average_at_start"] = round(os.getloadavg()[0], 1)
    tenant = company(SUBDOMAIN, "Bench webhooks")
    sink = Receiver().start()
    with (
        override_settings(WEBHOOKS_ALLOW_LOOPBACK=True, WEBHOOKS_ALLOW_HTTP=True),
        tenant_context(tenant),
    ):
        owner = User.objects.get(is_owner=True)
        endpoint, _secret = services.endpoint_create(actor=owner, data={"url": sink.url})
        ids = _deliveries(endpoint, sizes.deliveries, "bench")
        bodies = {
            pk: orjson.dumps(body)
            for pk, body in Delivery.objects.filter(pk__in=ids).values_list("pk", "body")
        }

        round_trips = []
        with connection.cursor() as cursor:
            for _ in range(500):
                start = perf_counter_ns()
                cursor.execute("SELECT 1")
                round_trips.append(perf_counter_ns() - start)
        # For reading the figures: a delivery makes 4 round trips (BEGIN, locking SELECT,
        # attempt + new state in one statement, COMMIT) besides its POST.
        round_trip = Series("db_round_trip", "database round trip (SELECT 1)", "ms", round_trips)

        progress(f"plain POST loop: {len(ids)} posts, {sizes.workers} threads (reference)")
        client = httpx.Client()
        plain_ns, plain_wall = _in_threads(
            tenant,
            ids,
            sizes.workers,
            lambda pk: client.post(sink.url, content=bodies[pk]).raise_for_status(),
        )
        client.close()

        progress(f"product deliveries one by one: {len(ids)}, {sizes.workers} threads")
        sink.received.clear()
        product_ns, product_wall = _in_threads(
            tenant, ids, sizes.workers, lambda pk: services.delivery_attempt(delivery_id=pk)
        )
        _verify(ids, sink)

        latency_ids = _deliveries(endpoint, sizes.latency_deliveries, "latency")
        progress(f"latency: {len(latency_ids)} deliveries one at a time, one thread")
        sink.received.clear()
        latency_ns, _wall = _in_threads(
            tenant, latency_ids, 1, lambda pk: services.delivery_attempt(delivery_id=pk)
        )
        _verify(latency_ids, sink)

        batch_ids = _deliveries(endpoint, sizes.deliveries, "batch")
        batches = [
            batch_ids[i : i + services.DELIVERY_BATCH]
            for i in range(0, len(batch_ids), services.DELIVERY_BATCH)
        ]
        progress(f"product deliveries in batches of {services.DELIVERY_BATCH}: {len(batch_ids)}")
        sink.received.clear()
        batch_ns, batch_wall = _in_threads(
            tenant,
            batches,
            sizes.workers,
            lambda chunk: services.deliveries_attempt(delivery_ids=chunk),
        )
        _verify(batch_ids, sink)

        progress(f"receiver restart: {sizes.restart_deliveries} deliveries, sink down half-way")
        restart_ids = _deliveries(endpoint, sizes.restart_deliveries, "restart")
        sink.received.clear()
        half = len(restart_ids) // 2
        for pk in restart_ids[:half]:
            services.delivery_attempt(delivery_id=pk)
        port = sink.port
        sink.stop()
        for pk in restart_ids[half:]:
            services.delivery_attempt(delivery_id=pk)  # refused: retried later
        failed_first = Delivery.objects.filter(pk__in=restart_ids, attempts=1, status="pending")
        down_failures = failed_first.count()
        received_before = list(sink.received)
        sink = Receiver(port=port).start()
        deadline = time.monotonic() + 120
        with override_settings(WEBHOOKS_RETRY_SCALE=0.0):
            while time.monotonic() < deadline:
                due = [pk for pk in services.deliveries_due() if pk in set(restart_ids)]
                if not due:
                    break
                for pk in due:
                    services.delivery_attempt(delivery_id=pk)
        received = received_before + sink.received
        ids_received = {r.headers["webhook-id"] for r in received}
        expected = {
            str(e)
            for e in Delivery.objects.filter(pk__in=restart_ids).values_list("event_id", flat=True)
        }
        lost = len(expected - ids_received)
        sink.stop()
    connection.set_schema_to_public()

    latency = Series(
        "latency", "one delivery, nothing else running", unit="ms", samples_ns=latency_ns
    )
    product = Series(
        "delivery",
        f"one delivery, {sizes.workers} threads at once",
        unit="ms",
        samples_ns=product_ns,
    )
    batch = Series(
        "batch",
        f"batch of {services.DELIVERY_BATCH} deliveries",
        unit="ms",
        samples_ns=batch_ns,
    )
    plain = Series(
        "plain_post", "plain POST, same bodies (reference)", unit="ms", samples_ns=plain_ns
    )
    section.series = [latency, product, batch, plain, round_trip]
    product_rate = len(ids) / (product_wall / 1e9)
    batch_rate = len(batch_ids) / (batch_wall / 1e9)
    plain_rate = len(ids) / (plain_wall / 1e9)
    section.facts.update(
        {
            "load_average_at_end": round(os.getloadavg()[0], 1),
            "workers": sizes.workers,
            "deliveries_per_s_one_by_one": round(product_rate),
            "deliveries_per_s_batched": round(batch_rate),
            "plain_posts_per_s": round(plain_rate),
            "restart_deliveries": len(restart_ids),
            "refused_while_down": down_failures,
            "lost_after_restart": lost,
        }
    )
    section.ratios = [
        Ratio("plain POST rate / delivery rate, one by one", plain_rate / product_rate),
        Ratio("plain POST rate / delivery rate, batched", plain_rate / batch_rate),
    ]
    section.checks = [
        Check("ms per delivery, batched (>= 400/s)", 1000 / batch_rate, 1000 / RATE_TARGET, "ms"),
        Check("delivery p95 ms (one at a time)", latency.p95, P95_TARGET_MS, "ms"),
        Check("deliveries lost across a receiver restart", lost, 0, "count"),
    ]
    return section
