"""Writing rules (every edit is a new version), the dry run, and the time-based sweep."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Perm, has_perm

from .actions import Context, actions_clean, recipients, render
from .conditions import RuleError, condition_fields, conditions_clean, conditions_evaluate
from .entities import ENTITIES
from .handlers import runs_enqueue
from .models import WorkflowRule, WorkflowRuleVersion, WorkflowRun, WorkflowSweep
from .triggers import TIME_TRIGGERS, due_firings, trigger_clean

MAX_SWEEP_FIRINGS = 5000  # per rule and sweep; the rest waits for the next sweep


def _ensure_admin(actor: User) -> None:
    if not has_perm(actor, Perm.MANAGE_WORKFLOWS):
        raise PermissionDenied


def _definition_clean(entity_key: str, data: dict) -> dict:
    """The rule's trigger, conditions and actions, or ValidationError naming each fault."""
    entity = ENTITIES.get(entity_key) if entity_key in WorkflowRule.Entity.values else None
    if entity is None:
        raise ValidationError({"entity": [f"use one of {', '.join(WorkflowRule.Entity.values)}"]})
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for key, clean in (
        ("trigger", trigger_clean),
        ("conditions", conditions_clean),
        ("actions", actions_clean),
    ):
        try:
            cleaned[key] = clean(entity, data.get(key, {} if key == "conditions" else None))
        except RuleError as exc:
            for where, message in exc.errors.items():
                errors.setdefault(where, []).append(message)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _new_version(rule: WorkflowRule, definition: dict, author: User) -> WorkflowRuleVersion:
    number = (rule.current_version.number + 1) if rule.current_version else 1
    version = WorkflowRuleVersion.objects.create(
        rule=rule, number=number, author=author, **definition
    )
    rule.current_version = version
    return version


@transaction.atomic
def rule_create(*, actor: User, data: dict) -> WorkflowRule:
    _ensure_admin(actor)
    name = str(data.get("name", "")).strip()
    errors = {} if name else {"name": ["A name is needed."]}
    try:
        definition = _definition_clean(data.get("entity"), data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    rule = WorkflowRule.objects.create(
        entity=data["entity"],
        name=name[:200],
        description=str(data.get("description", ""))[:2000],
        is_enabled=bool(data.get("is_enabled", True)),
        created_by=actor,
    )
    _new_version(rule, definition, actor)
    rule.save(update_fields=["current_version"])
    return rule


@transaction.atomic
def rule_update(*, rule: WorkflowRule, actor: User, data: dict) -> WorkflowRule:
    """Rename, enable/disable, or change what the rule does (a new version; runs already
    logged keep pointing at the version that ran). The record type cannot change."""
    _ensure_admin(actor)
    rule = (
        WorkflowRule.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=rule.pk)
    )
    if "entity" in data and data["entity"] != rule.entity:
        raise ValidationError({"entity": ["A rule's record type cannot change."]})
    if "name" in data:
        rule.name = str(data["name"]).strip()[:200]
        if not rule.name:
            raise ValidationError({"name": ["A name is needed."]})
    if "description" in data:
        rule.description = str(data["description"])[:2000]
    definition_keys = {"trigger", "conditions", "actions"}
    if definition_keys & set(data):
        current = rule.current_version
        merged = {key: data.get(key, getattr(current, key)) for key in definition_keys}
        _new_version(rule, _definition_clean(rule.entity, merged), actor)
    if "is_enabled" in data:
        rule.is_enabled = bool(data["is_enabled"])
        if rule.is_enabled:
            rule.disabled_reason = ""
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, rule: WorkflowRule, actor: User) -> None:
    _ensure_admin(actor)
    rule.delete()


def rules_disable_for_field(*, entity: str, path: str, reason: str) -> int:
    """Switch off the rules that use a field about to disappear (e.g. an archived custom
    field), with a reason admins see; returns how many."""
    disabled = 0
    rules = WorkflowRule.objects.filter(entity=entity, is_enabled=True).select_related(
        "current_version"
    )
    for rule in rules:
        version = rule.current_version
        used = condition_fields(version.conditions) | {
            version.trigger.get("field"),
            *(key for action in version.actions for key in action.get("values", {})),
        }
        if path in used:
            rule.is_enabled, rule.disabled_reason = False, reason[:300]
            rule.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
            disabled += 1
    return disabled


def rule_dry_run(*, rule: WorkflowRule, record_id: int, actor: User) -> dict:
    """What the rule would do to a record now, changing nothing: the condition result
    with the values seen, and each action as it would be run."""
    _ensure_admin(actor)
    entity = ENTITIES[rule.entity]
    record = entity.model._default_manager.filter(pk=record_id).first()
    if record is None:
        raise ValidationError({"record_id": ["No such record."]})
    version = rule.current_version
    matched, seen = conditions_evaluate(entity, version.conditions, record, actor=actor)
    ctx = Context(entity, record, version.author or actor, 0, 0, timezone.now())
    planned = []
    for action in version.actions if matched else ():
        step = dict(action)
        spec = {"notify": "to", "send_email": "to", "create_task": "assignee"}.get(action["type"])
        if spec:
            people = recipients(action.get(spec, "owner"), ctx, actor_id=actor.pk)
            step["recipients"] = [user.email for user in people]
        for key in ("subject", "title", "body"):
            if key in action:
                step[key] = render(action[key], ctx, actor.language)
        planned.append(step)
    return {
        "rule_version": version.number,
        "trigger": version.trigger,
        "matched": matched,
        "values_seen": seen,
        "actions": planned,
    }


# --- the time-based sweep --------------------------------------------------------------


def workflows_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat, per company: fire due time-based triggers, resume finished waits and
    re-queue runs whose wake-up was lost. Safe to run twice (firing keys)."""
    now = now or timezone.now()
    bookmark, _created = WorkflowSweep.objects.get_or_create(
        pk=1, defaults={"last_swept_at": now - timedelta(minutes=15)}
    )
    last = min(bookmark.last_swept_at, now)
    fired = 0
    rules = WorkflowRule.objects.filter(
        is_enabled=True, current_version__trigger__type__in=TIME_TRIGGERS
    ).select_related("current_version")
    for rule in rules:
        fired += _fire_time_rule(rule, now=now, last=last)
    due = (
        WorkflowRun.objects.filter(status=WorkflowRun.Status.WAITING, resume_at__lte=now)
        .values_list("record_type", "record_id")
        .distinct()
    )
    stale = (
        WorkflowRun.objects.filter(
            status=WorkflowRun.Status.PENDING, created_at__lte=now - timedelta(seconds=30)
        )
        .values_list("record_type", "record_id")
        .distinct()
    )
    requeued = set(due) | set(stale)
    for record_type, record_id in requeued:
        runs_enqueue(record_type=record_type, record_id=record_id)
    WorkflowSweep.objects.filter(pk=1).update(last_swept_at=max(now, bookmark.last_swept_at))
    return {"fired": fired, "requeued": len(requeued)}


def _fire_time_rule(rule: WorkflowRule, *, now: datetime, last: datetime) -> int:
    entity = ENTITIES[rule.entity]
    version = rule.current_version
    fired = 0
    for condition, key_template in due_firings(version.trigger, entity, now=now, last_sweep=last):
        records = entity.model._default_manager.filter(condition).order_by("id")
        for record in records[:MAX_SWEEP_FIRINGS].iterator():
            moment = getattr(record, "last_activity_at", None) or record.created_at
            key = key_template.format(last_activity_at=moment.isoformat())[:100]
            try:
                with transaction.atomic():
                    _run, new = WorkflowRun.objects.get_or_create(
                        version=version,
                        record_type=entity.key,
                        record_id=record.pk,
                        firing_key=key,
                        defaults={"rule": rule, "event_type": f"time.{version.trigger['type']}"},
                    )
            except IntegrityError:  # a concurrent sweep fired it first
                continue
            if new:
                fired += 1
                runs_enqueue(record_type=entity.key, record_id=record.pk)
    return fired
