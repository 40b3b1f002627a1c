"""Celery tasks of the CRM, one module per area (autodiscovery imports this package)."""

from . import imports, pool, reminders  # noqa: F401
