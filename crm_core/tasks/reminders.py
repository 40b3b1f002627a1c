"""Celery tasks of the reminders area."""
