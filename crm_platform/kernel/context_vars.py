"""Per-request / per-task context read by logging and Sentry."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
tenant_var: ContextVar[str] = ContextVar("tenant", default="-")
# The request being served (its user, once authenticated, is the actor of its events).
request_var: ContextVar = ContextVar("request", default=None)
