"""Work that is safe to redo commits without waiting for the disk; a caller's
transaction keeps its own durability."""

from django.db import connection, transaction

from crm_platform.kernel.transactions import atomic_without_waiting_for_disk


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_only_the_outermost_block_commits_asynchronously(committed):
    with atomic_without_waiting_for_disk():
        assert _synchronous_commit() == "off"
    assert _synchronous_commit() == "on"  # SET LOCAL ended with the transaction
    with transaction.atomic():  # a caller's transaction, e.g. a person's change
        with atomic_without_waiting_for_disk():
            assert _synchronous_commit() == "on"
