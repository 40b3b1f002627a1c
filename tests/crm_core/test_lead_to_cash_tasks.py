"""The beat task of lead to cash runs in a real worker, in the sender's company, and is
on the beat schedule of every live company."""

from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from crm_core.tasks.lead_to_cash import lead_to_cash_sweep_task


def test_the_sweep_runs_in_the_worker(world, committed, celery_worker):
    entry = settings.CELERY_BEAT_SCHEDULE["crm-lead-to-cash"]
    assert entry["task"] == "crm.lead_to_cash_sweep" and "tenant_schemas" not in entry
    with tenant_context(world.b.tenant):
        result = lead_to_cash_sweep_task.delay()
    connection.set_schema_to_public()
    counts = result.get(timeout=30)
    assert set(counts) == {
        "payment_reminders", "contract_reminders", "quotes_expired", "contracts_expired"
    }  # fmt: skip
