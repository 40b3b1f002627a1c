"""Celery tasks of the imports area."""
