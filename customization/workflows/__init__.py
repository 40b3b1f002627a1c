"""Workflow rules: a trigger, conditions and ordered actions per kind of record.

Rules never run inside the user's request. The outbox hands every record event to
`handlers.py`, which only writes a pending WorkflowRun per matching rule; Celery then
evaluates and acts (`engine.py`), one record's runs in order, each step logged.
Time-based triggers and waits are found by a per-tenant beat sweep (`schedule.py`).
"""
