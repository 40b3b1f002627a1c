"""Celery tasks of the pool area."""
