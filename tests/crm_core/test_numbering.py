"""Document numbers under concurrency: real transactions on separate connections take
numbers at the same moment; committed numbers never repeat and never skip (a rolled-back
transaction gives its number back)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from crm_core.models import NumberSequence
from crm_core.services.numbering import number_next

WORKERS = 8


class _Rollback(Exception):
    pass


def test_numbers_never_repeat_or_skip_under_concurrency(world, committed):
    with tenant_context(world.a.tenant):
        start = (
            NumberSequence.objects.filter(kind="order").values_list("last_value", flat=True).first()
            or 0
        )
    connection.set_schema_to_public()
    barrier = threading.Barrier(WORKERS)

    def take(index: int) -> str | None:
        try:
            with tenant_context(world.a.tenant):
                barrier.wait()
                with transaction.atomic():
                    number = number_next(kind="order")
                    time.sleep(0.02)  # hold the lock while the others queue
                    if index % 4 == 3:
                        raise _Rollback
                return number
        except _Rollback:
            return None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(take, range(WORKERS)))
    committed_numbers = sorted(int(number.split("-")[1]) for number in results if number)
    assert len(committed_numbers) == WORKERS - WORKERS // 4
    assert committed_numbers == list(range(start + 1, start + 1 + len(committed_numbers)))
    with tenant_context(world.a.tenant):
        last = NumberSequence.objects.get(kind="order").last_value
    connection.set_schema_to_public()
    assert last == start + len(committed_numbers)


def test_a_number_needs_the_callers_transaction(world, committed):
    with tenant_context(world.a.tenant), pytest.raises(RuntimeError):
        number_next(kind="quote")
    connection.set_schema_to_public()
