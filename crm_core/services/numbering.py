"""Document numbers per company (quotes, contracts, orders, invoices).

The counter row is locked (SELECT ... FOR UPDATE) in the caller's transaction: two
concurrent documents wait for each other, so numbers never repeat, and a rolled-back
transaction gives its number back, so they never skip.
"""

from __future__ import annotations

from django.db import transaction

from ..models import NumberSequence

PREFIXES = {"quote": "Q", "contract": "C", "order": "SO", "invoice": "INV"}


def number_next(*, kind: str) -> str:
    """The next number of `kind`, e.g. "Q-000042". Must run inside a transaction."""
    if kind not in PREFIXES:
        raise ValueError(f"unknown number kind {kind!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_next needs the caller's transaction")
    # The first number of a kind creates its row; ignore_conflicts lets a concurrent
    # first one win without an error, then both lock the same row.
    NumberSequence.objects.bulk_create([NumberSequence(kind=kind)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(kind=kind)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{PREFIXES[kind]}-{sequence.last_value:06d}"
