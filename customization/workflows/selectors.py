"""Reading rules and their run logs."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.roles import Perm, has_perm
from crm_core.records import can_see

from .entities import ENTITIES
from .models import WorkflowRule, WorkflowRun


def rule_list(*, entity: str | None = None) -> QuerySet[WorkflowRule]:
    rules = WorkflowRule.objects.select_related("current_version")
    return rules.filter(entity=entity) if entity else rules


def rule_get(*, pk: int) -> WorkflowRule:
    return WorkflowRule.objects.select_related("current_version__author").get(pk=pk)


def run_list(*, rule: WorkflowRule | None = None, status: str | None = None) -> QuerySet:
    runs = WorkflowRun.objects.select_related("rule", "version").prefetch_related("steps")
    if rule is not None:
        runs = runs.filter(rule=rule)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-id")


def record_runs(*, user, record_type: str, record_id: int) -> QuerySet:
    """ "Why did this happen?": the runs on one record, for anyone who can see it."""
    entity = ENTITIES.get(record_type)
    if entity is None:
        raise PermissionDenied
    if not has_perm(user, Perm.MANAGE_WORKFLOWS):
        record = entity.model._default_manager.filter(pk=record_id).first()
        if record is None or not _visible(user, entity, record):
            raise PermissionDenied
    return run_list().filter(record_type=record_type, record_id=record_id)


def _visible(user, entity, record) -> bool:
    if hasattr(record, "owner_id"):
        return can_see(user, record)
    from crm_core.selectors.activities import activity_queryset

    return activity_queryset(user=user).filter(pk=record.pk).exists()
