"""Benchmark: a record change -> its workflow action applied, end to end.

The product's path: the change commits with its outbox event; a real Celery worker
(prefork, 2 processes) dispatches the outbox, a rule's run is created, evaluated and its
action applied (a review task created through the activities service), each step logged.
The reference does the same work directly: the change and the task inserted in one
PostgreSQL transaction, no outbox, no worker, no log.

- latency: one change at a time; from the change's commit until its task exists.
- throughput: a backlog of changes committed with no worker running, then the worker
  started; rate = tasks / (last task - first task), i.e. saturated.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from time import perf_counter_ns

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Activity, Deal
from crm_core.services.deals import deal_update
from crm_core.services.pipelines import pipeline_create

from .crm_import import company
from .processes import process_stop
from .stats import Check, Ratio, Section, Series

ROOT = Path(__file__).resolve().parent.parent
# Issue 6: "target >= 460/s, p50 <= 50 ms end to end" (222 rule tasks/s measured for a
# naive implementation). design.md's table gives the same row "p50 <= 10 ms", which a
# Celery hop after a committed change cannot meet on 2 cores (the reference alone, one
# transaction with no hop, takes ~5 ms); read as the rule task itself, it is checked on
# the worker's side: from the run's creation by the dispatcher to its actions done.
LATENCY_P50_TARGET_MS = 50.0
RULE_TASK_P50_TARGET_MS = 10.0
THROUGHPUT_TARGET = 460.0


@dataclass(frozen=True)
class Sizes:
    latency_samples: int = 100
    backlog: int = 2000
    worker_processes: int = 2


def _worker(sizes: Sizes, log: Path) -> subprocess.Popen:
    env = dict(os.environ)  # DATABASE_URL already points at crm_bench
    env.update(CRM_TESTING="1", LOG_FORMAT="text", LOG_LEVEL="WARNING")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm_platform",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(sizes.worker_processes),
            "--loglevel",
            "warning",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    from crm_platform.celery import app

    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            process_stop(proc)
            raise RuntimeError(f"Celery worker did not start; see {log}")
    return proc


def _setup(tenant, total: int):
    from customization.workflows.services import rule_create

    with tenant_context(tenant):
        owner = User.objects.get(is_owner=True)
        pipeline = pipeline_create(actor=owner, data={"name": "Bench workflows"})
        stage = pipeline.stages.order_by("position").first()
        Deal.objects.bulk_create(
            Deal(
                name=f"Bench deal {i}",
                pipeline=pipeline,
                stage=stage,
                owner=owner,
                amount=Decimal(1000),
            )
            for i in range(total)
        )
        rule_create(
            actor=owner,
            data={
                "entity": "deal",
                "name": "Review big deals",
                "trigger": {"type": "updated"},
                "conditions": {"all": [{"field": "amount", "op": "gt", "value": "500000"}]},
                "actions": [{"type": "create_task", "subject": "Review {name}"}],
            },
        )
        return owner, list(Deal.objects.filter(pipeline=pipeline).order_by("id"))


def _change(deal, owner) -> None:
    deal_update(deal=deal, actor=owner, data={"amount": Decimal(600000)})


# The watcher's own cost: an ORM query every 0.5 ms kept most of a core busy compiling
# SQL, on a 2-core machine whose worker and database it was timing. A fixed statement
# every 1 ms costs a fraction of that, for at most 1 ms of added latency.
_TASK_EXISTS_SQL = "SELECT 1 FROM crm_core_activity WHERE deal_id = %s AND kind = 'task'"


def _wait_for_task(deal_id: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    with connection.cursor() as cursor:
        while True:
            cursor.execute(_TASK_EXISTS_SQL, [deal_id])
            if cursor.fetchone():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"no task for deal {deal_id}")
            time.sleep(0.001)


def _wait_for_tasks(deal_ids: list[int], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while Activity.objects.filter(deal_id__in=deal_ids, kind="task").count() < len(deal_ids):
        if time.monotonic() > deadline:
            raise RuntimeError("workflow actions did not all arrive")
        time.sleep(0.05)


def _reference(deals, owner, latency: Series) -> float:
    """The same change and task, written directly in one transaction each."""
    start = perf_counter_ns()
    for deal in deals:
        began = perf_counter_ns()
        with transaction.atomic():
            Deal.objects.filter(pk=deal.pk).update(
                amount=Decimal(600000), updated_at=timezone.now()
            )
            Activity.objects.create(
                kind="task", subject=f"Review {deal.name}", assignee=owner, deal=deal
            )
        latency.add(perf_counter_ns() - began)
    return len(deals) / ((perf_counter_ns() - start) / 1e9)


def run(sizes: Sizes, progress) -> Section:
    section = Section("workflows", "Record change -> workflow action applied (Celery, Redis)")
    tenant = company("benchworkflows", "Bench Workflows")
    log = ROOT / "bench" / "results" / "workflows-worker.log"
    log.parent.mkdir(exist_ok=True)
    total = sizes.latency_samples + 2 * sizes.backlog
    progress(f"workflows: {total} deals and a rule")
    owner, deals = _setup(tenant, total)
    latency_deals = deals[: sizes.latency_samples]
    backlog_deals = deals[sizes.latency_samples : sizes.latency_samples + sizes.backlog]
    reference_deals = deals[sizes.latency_samples + sizes.backlog :]

    product_latency = Series("product_latency", "product: change -> task exists")
    rule_task = Series("rule_task", "in the worker: run created -> actions done")
    reference_latency = Series("reference_latency", "reference: change + task, one transaction")
    worker = _worker(sizes, log)
    try:
        progress(f"workflows: latency, {sizes.latency_samples} changes one at a time")
        with tenant_context(tenant):
            for deal in latency_deals:
                began = perf_counter_ns()
                _change(deal, owner)
                _wait_for_task(deal.pk)
                product_latency.add(perf_counter_ns() - began)
            _rule_task_times([d.pk for d in latency_deals], rule_task)
    finally:
        process_stop(worker)
    connection.set_schema_to_public()

    progress(f"workflows: a backlog of {sizes.backlog} changes, then the worker")
    with tenant_context(tenant):
        for deal in backlog_deals:
            _change(deal, owner)
    connection.set_schema_to_public()
    worker = _worker(sizes, log)
    try:
        with tenant_context(tenant):
            _wait_for_tasks([d.pk for d in backlog_deals])
            times = sorted(
                Activity.objects.filter(
                    deal_id__in=[d.pk for d in backlog_deals], kind="task"
                ).values_list("created_at", flat=True)
            )
            runs = _run_facts([d.pk for d in backlog_deals])
    finally:
        process_stop(worker)
    connection.set_schema_to_public()
    span_s = (times[-1] - times[0]).total_seconds()
    product_rate = (len(times) - 1) / span_s if span_s else float("inf")

    progress("workflows: the reference")
    with tenant_context(tenant):
        reference_rate = _reference(reference_deals, owner, reference_latency)
    connection.set_schema_to_public()

    section.series = [product_latency, rule_task, reference_latency]
    section.facts = {
        "backlog": sizes.backlog,
        "worker": f"celery prefork x {sizes.worker_processes}",
        "product actions per s (saturated)": round(product_rate, 1),
        "reference change+task per s (1 process)": round(reference_rate, 1),
        **runs,
    }
    section.ratios = [
        Ratio("reference / product throughput", reference_rate / product_rate, "per second"),
        Ratio(
            "product / reference latency",
            product_latency.p50 / reference_latency.p50,
            "p50",
        ),
    ]
    section.checks = [
        Check("change -> action p50", product_latency.p50, LATENCY_P50_TARGET_MS, "ms"),
        Check("rule task p50 (design.md)", rule_task.p50, RULE_TASK_P50_TARGET_MS, "ms"),
        Check(
            "1 / saturated throughput",
            1000 / product_rate,
            1000 / THROUGHPUT_TARGET,
            f"ms (>= {THROUGHPUT_TARGET:.0f}/s)",
        ),
    ]
    return section


def _rule_task_times(deal_ids: list[int], series: Series) -> None:
    """Per run: from its creation in the dispatcher to its last action's end (stamped
    just before the pass writes its log and commits), one clock on one machine."""
    from customization.workflows.models import WorkflowRun

    for created, finished in WorkflowRun.objects.filter(
        record_type="deal", record_id__in=deal_ids, finished_at__isnull=False
    ).values_list("created_at", "finished_at"):
        series.add(int((finished - created).total_seconds() * 1e9))


def _run_facts(deal_ids: list[int]) -> dict:
    from customization.workflows.models import WorkflowRun

    runs = WorkflowRun.objects.filter(record_type="deal", record_id__in=deal_ids)
    return {
        "runs succeeded": runs.filter(status="succeeded").count(),
        "run duration p50 ms (in the worker)": round(
            sorted(runs.values_list("duration_ms", flat=True))[runs.count() // 2], 2
        ),
    }
