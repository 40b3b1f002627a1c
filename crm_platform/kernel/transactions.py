"""Transaction settings shared by the apps."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def atomic_without_waiting_for_disk() -> Iterator[None]:
    """`transaction.atomic()` whose COMMIT, when it is the outermost block, returns
    before its WAL is flushed (one disk flush per commit: 0.15-0.25 ms on an idle machine
    here, more when commits queue behind each other).

    For work that is safe to lose whole and do again: if the server crashes in the next
    few hundred ms the transaction is lost entirely (never in part), as if it had rolled
    back. No later synchronous commit can depend on a lost one: flushing its commit
    record flushes the WAL before it. Inside a caller's transaction the commit is the
    caller's, and so is its durability. Never for a person's change.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield
