"""Registry of outbox event handlers.

Apps register a handler for an event type (or "*") in their AppConfig.ready():

    outbox_handlers.register("user.invited", send_invitation_email)

A handler receives the OutboxEvent and runs inside the event's tenant schema. It must be
idempotent: delivery is at least once.
"""

from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

Handler = Callable[["OutboxEvent"], None]  # noqa: F821

_handlers: dict[str, list[Handler]] = defaultdict(list)
_transactional: set[Handler] = set()


def register(event_type: str, handler: Handler, *, transactional: bool = False) -> None:
    """`transactional`: everything the handler does is in the dispatcher's transaction
    (rows written, tasks queued with on_commit), nothing outside it (no e-mail sent, no
    HTTP call), so rolling it back undoes it completely. A batch of events whose handlers
    all are is dispatched under one savepoint instead of one per event."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)
    if transactional:
        _transactional.add(handler)


def unregister(event_type: str, handler: Handler) -> None:
    if handler in _handlers[event_type]:
        _handlers[event_type].remove(handler)


def handlers_for(event_type: str) -> list[Handler]:
    return [*_handlers.get(event_type, ()), *_handlers.get("*", ())]


def all_transactional(event_type: str) -> bool:
    return all(handler in _transactional for handler in handlers_for(event_type))


_batch_memo: ContextVar[dict | None] = ContextVar("outbox_batch_memo", default=None)


@contextmanager
def dispatch_batch():
    """The scope of one dispatcher batch (one transaction, one schema), for batch_memo."""
    token = _batch_memo.set({})
    try:
        yield
    finally:
        _batch_memo.reset(token)


def batch_memo(key: str, load: Callable[[], object]):
    """`load()`, once per dispatcher batch: handlers read the same configuration (rules,
    endpoints) for each of up to a hundred events, which would otherwise cost a query per
    event. A change committed while a batch runs applies from the next batch on. Outside
    a batch, loads every time."""
    memo = _batch_memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


_deferred: ContextVar[dict | None] = ContextVar("outbox_batch_deferred", default=None)


@contextmanager
def deferred_writes():
    """Around a batch dispatched together: the rows handlers defer (batch_deferred) are
    written when the last handler has run, if none failed."""
    token = _deferred.set({})
    try:
        yield
        for write, rows in _deferred.get().values():
            write(rows)
    finally:
        _deferred.reset(token)


def batch_deferred(key: str, write: Callable[[list], None]) -> list | None:
    """A list whose rows `write(rows)` receives once, after the batch's last handler: one
    insert per batch, not one per event. None when events go one at a time: the caller
    writes at once, so a failing event never takes the others' rows with it."""
    deferred = _deferred.get()
    if deferred is None:
        return None
    return deferred.setdefault(key, (write, []))[1]
