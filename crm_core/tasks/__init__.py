"""Celery tasks of the CRM, one module per area (autodiscovery imports this package)."""

from . import imports, lead_to_cash, pool, reminders  # noqa: F401
