"""Who an outbox event is attributed to, and how deep in an automation chain it is.

In a request the actor is the authenticated user (session or API token: DRF sets the
user on the underlying request). Automation runs its actions inside `acting_as`, so
the events its actions cause carry the rule's actor and the next chain depth.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from crm_platform.kernel.context_vars import request_var

_override: ContextVar[tuple[int | None, int] | None] = ContextVar("outbox_actor", default=None)


@contextmanager
def acting_as(actor_id: int | None, *, chain_depth: int):
    token = _override.set((actor_id, chain_depth))
    try:
        yield
    finally:
        _override.reset(token)


def current_actor() -> tuple[int | None, int]:
    """(actor id or None, chain depth) for an event recorded now."""
    override = _override.get()
    if override is not None:
        return override
    request = request_var.get()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user.pk, 0
    return None, 0
