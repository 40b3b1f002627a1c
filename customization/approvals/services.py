"""Approval processes: writing them (from scratch or from a ready template), finding the
one that applies to a record, submitting a record, and running the outcome actions
after the final decision (from the outbox, never in the deciding request)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Perm, Role, has_perm
from crm_core.models import ApprovalRequest
from crm_core.records import ensure_can_change
from crm_core.services.approvals import approval_ensure_unlocked, approval_request
from crm_platform.outbox.actor import acting_as

from ..workflows.actions import ActionFailed, Context, action_run, actions_clean
from ..workflows.conditions import RuleError, condition_fields, conditions_clean
from ..workflows.conditions import conditions_evaluate as _evaluate
from ..workflows.entities import ENTITIES
from .models import ApprovalProcess

logger = logging.getLogger(__name__)

MAX_STEPS = 10
MAX_REMIND_HOURS = 24 * 30
APPROVER_KINDS = ("owner_manager", "users")  # and "role:<role>"
# Outcome actions happen once, after the decision: waiting or asking again make no sense.
OUTCOME_EXCLUDED = ("wait", "request_approval")


# --- ready templates -----------------------------------------------------------------

TEMPLATES = {
    "quote_discount": {
        "entity": "quote",
        "name": gettext_lazy("Quote discount"),
        "description": gettext_lazy(
            "Quotes whose total discount is above 10% need the sales manager's approval "
            "before they are sent. Change the percent in the entry criteria."
        ),
        "conditions": {"all": [{"field": "effective_discount_percent", "op": "gt", "value": "10"}]},
        "steps": [{"name": gettext_lazy("Sales manager"), "approvers": "owner_manager"}],
    },
    "large_deal": {
        "entity": "deal",
        "name": gettext_lazy("Large deal"),
        "description": gettext_lazy(
            "Deals of 500,000 or more need the sales manager's approval, then a sales "
            "director's (an administrator). Submit the deal from its page, or let a "
            "workflow rule request it when the deal enters a stage."
        ),
        "conditions": {"all": [{"field": "amount", "op": "gte", "value": "500000"}]},
        "steps": [
            {"name": gettext_lazy("Sales manager"), "approvers": "owner_manager"},
            {"name": gettext_lazy("Sales director"), "approvers": f"role:{Role.ADMIN}"},
        ],
        "on_approved": [
            {
                "type": "create_task",
                "subject": {
                    "en": "Prepare the contract for {name}",
                    "zh-hans": "为 {name} 准备合同",
                    "ja": "{name} の契約書を準備する",
                },
                "assignee": "owner",
                "due_in_days": 2,
            }
        ],
    },
}


def _ensure_admin(actor: User) -> None:
    if not has_perm(actor, Perm.MANAGE_WORKFLOWS):
        raise PermissionDenied


# --- writing processes -----------------------------------------------------------------


def _errors_into(errors: dict, exc: RuleError, *, rename: tuple[str, str] | None = None):
    for where, message in exc.errors.items():
        if rename and where.startswith(rename[0]):
            where = rename[1] + where.removeprefix(rename[0])
        errors.setdefault(where, []).append(message)


def _steps_clean(steps, errors: dict) -> list[dict]:
    if not isinstance(steps, list) or not steps:
        errors["steps"] = [_("At least one approval step is needed.")]
        return []
    if len(steps) > MAX_STEPS:
        errors["steps"] = [_("At most %(n)s steps.") % {"n": MAX_STEPS}]
        return []
    cleaned = []
    for i, step in enumerate(steps):
        where = f"steps.{i}"
        if not isinstance(step, dict):
            errors[where] = [_("Expected a step with approvers.")]
            continue
        unknown = set(step) - {"name", "approvers", "users", "mode"}
        if unknown:
            errors[where] = [_("Unknown keys: %(keys)s") % {"keys": ", ".join(sorted(unknown))}]
            continue
        approvers = step.get("approvers", "")
        role = approvers.removeprefix("role:") if isinstance(approvers, str) else ""
        if approvers not in APPROVER_KINDS and not (
            approvers.startswith("role:") and role in Role.values
        ):
            errors[f"{where}.approvers"] = [
                _("Use owner_manager, users, or role:<role> with a role of %(roles)s.")
                % {"roles": ", ".join(Role.values)}
            ]
        clean = {"name": str(step.get("name") or "")[:100], "approvers": approvers}
        if approvers == "users":
            users = step.get("users")
            ids = users if isinstance(users, list) else []
            if not ids or not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in ids):
                errors[f"{where}.users"] = [_("Choose at least one user.")]
            elif User.objects.filter(pk__in=ids, is_active=True).count() != len(set(ids)):
                errors[f"{where}.users"] = [_("Every approver must be an active user.")]
            clean["users"] = sorted(set(ids))
        mode = step.get("mode", "any")
        if mode not in ("any", "all"):
            errors[f"{where}.mode"] = [_("Use any (one approver decides) or all.")]
        clean["mode"] = mode
        cleaned.append(clean)
    return cleaned


def _outcome_clean(entity, actions, key: str, errors: dict) -> list[dict]:
    if actions in (None, []):
        return []
    if isinstance(actions, list):
        for i, action in enumerate(actions):
            if isinstance(action, dict) and action.get("type") in OUTCOME_EXCLUDED:
                errors[f"{key}.{i}.type"] = [_("This action cannot follow a decision.")]
                return actions
    try:
        return actions_clean(entity, actions)
    except RuleError as exc:
        _errors_into(errors, exc, rename=("actions", key))
        return actions


def _process_clean(data: dict, *, entity_key: str) -> dict:
    """The process's fields, or ValidationError naming each fault."""
    errors: dict[str, list[str]] = {}
    if entity_key not in ApprovalProcess.Entity.values:
        raise ValidationError(
            {"entity": [_("Use one of %(e)s.") % {"e": ", ".join(ApprovalProcess.Entity.values)}]}
        )
    entity = ENTITIES[entity_key]
    cleaned: dict = {"entity": entity_key}
    name = str(data.get("name", "")).strip()
    if not name:
        errors["name"] = [_("A name is needed.")]
    cleaned["name"] = name[:200]
    cleaned["description"] = str(data.get("description") or "")[:2000]
    cleaned["is_enabled"] = bool(data.get("is_enabled", True))
    for key, maximum in (("position", 10_000), ("remind_after_hours", MAX_REMIND_HOURS)):
        value = data.get(key, 0 if key == "position" else 24)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
            errors[key] = [_("A whole number from 0 to %(max)s is needed.") % {"max": maximum}]
        cleaned[key] = value
    try:
        cleaned["conditions"] = conditions_clean(entity, data.get("conditions") or {})
    except RuleError as exc:
        _errors_into(errors, exc)
    cleaned["steps"] = _steps_clean(data.get("steps"), errors)
    for key in ("on_approved", "on_rejected"):
        cleaned[key] = _outcome_clean(entity, data.get(key), key, errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


EDITABLE = (
    "name", "description", "is_enabled", "position", "remind_after_hours", "conditions",
    "steps", "on_approved", "on_rejected",
)  # fmt: skip


@transaction.atomic
def process_create(*, actor: User, data: dict, template: str = "") -> ApprovalProcess:
    _ensure_admin(actor)
    cleaned = _process_clean(data, entity_key=data.get("entity", ""))
    return ApprovalProcess.objects.create(**cleaned, template=template, created_by=actor)


@transaction.atomic
def process_update(*, process: ApprovalProcess, actor: User, data: dict) -> ApprovalProcess:
    """Change a process; requests already under way keep the steps they started with.
    Saving it again makes the saving admin the author its outcome actions run as."""
    _ensure_admin(actor)
    process = ApprovalProcess.objects.select_for_update().get(pk=process.pk)
    if "entity" in data and data["entity"] != process.entity:
        raise ValidationError({"entity": [_("A process's record type cannot change.")]})
    unknown = set(data) - set(EDITABLE) - {"entity"}
    if unknown:
        raise ValidationError({key: [_("Unknown field.")] for key in sorted(unknown)})
    merged = {key: data.get(key, getattr(process, key)) for key in EDITABLE}
    for key, value in _process_clean(merged, entity_key=process.entity).items():
        setattr(process, key, value)
    if process.is_enabled:
        process.disabled_reason = ""
    process.created_by = actor
    process.save()
    return process


@transaction.atomic
def process_delete(*, process: ApprovalProcess, actor: User) -> None:
    """Delete a process; its requests stay in the records' history (and pending ones
    can still be decided: they carry their steps)."""
    _ensure_admin(actor)
    process.delete()


def process_install_template(*, actor: User, template: str) -> ApprovalProcess:
    """A new process from a ready template, named in the admin's language."""
    if template not in TEMPLATES:
        raise ValidationError({"template": [_("Use one of %(t)s.") % {"t": ", ".join(TEMPLATES)}]})
    data = _localized(TEMPLATES[template])
    return process_create(actor=actor, data=data, template=template)


def _localized(value):
    """A template with its lazy texts turned into the current language's strings."""
    if isinstance(value, dict):
        return {key: _localized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_localized(item) for item in value]
    return value if isinstance(value, str | int | bool | type(None)) else str(value)


def processes_disable_for_field(*, entity: str, path: str, reason: str) -> int:
    """Switch off the processes whose entry criteria or outcome actions use a field about
    to disappear, with a reason admins see; returns how many."""
    disabled = 0
    for process in ApprovalProcess.objects.filter(entity=entity, is_enabled=True):
        used = condition_fields(process.conditions) | {
            key
            for action in (*process.on_approved, *process.on_rejected)
            for key in action.get("values", {})
        }
        if path in used:
            process.is_enabled, process.disabled_reason = False, reason[:300]
            process.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
            disabled += 1
    return disabled


# --- submitting records ----------------------------------------------------------------


def process_matches(process: ApprovalProcess, record) -> bool:
    return _evaluate(ENTITIES[process.entity], process.conditions, record)[0]


def approval_process_for(*, entity: str, record) -> ApprovalProcess | None:
    """The first enabled process of `entity` whose entry criteria the record meets."""
    for process in ApprovalProcess.objects.filter(entity=entity, is_enabled=True):
        if process_matches(process, record):
            return process
    return None


def approval_submit(
    *,
    record_type: str,
    record,
    actor: User,
    process: ApprovalProcess | None = None,
    requested_by: User | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Send a record into its approval process (the given one, else the first that
    applies). The record is locked until the request is decided or withdrawn."""
    ensure_can_change(actor, record)
    approval_ensure_unlocked(record_type=record_type, record_id=record.pk)
    if process is None:
        process = approval_process_for(entity=record_type, record=record)
        if process is None:
            raise ValidationError({"process": [_("No approval process applies to this record.")]})
    elif process.entity != record_type or not process.is_enabled:
        raise ValidationError({"process": [_("Choose an enabled process of this record type.")]})
    elif not process_matches(process, record):
        raise ValidationError(
            {"process": [_("This record does not meet the process's entry criteria.")]}
        )
    return approval_request(
        record_type=record_type,
        record_id=record.pk,
        rule=process.template or "process",
        process=process,
        reason=f"{process.name}: {record}",
        requested_by=requested_by or actor,
        # The owner's manager decides "owner_manager" steps: the record's team, else the
        # owner's.
        team_id=getattr(record, "team_id", None)
        or getattr(getattr(record, "owner", None), "team_id", None),
        steps=process.steps,
        remind_after_hours=process.remind_after_hours,
        now=now,
    )


# --- after the decision ------------------------------------------------------------------


def approval_outcome_run(event) -> None:
    """`approval.decided` (outbox): run the process's actions for the decision, once, as
    the process's author. A failing action is recorded on the request and stops the
    rest; the decision itself committed before and is never touched."""
    payload = event.payload
    if not payload.get("process_id"):
        return
    request = ApprovalRequest.objects.select_for_update().filter(pk=event.aggregate_id).first()
    if request is None or request.outcome:
        return  # handed over twice: it ran already
    process = ApprovalProcess.objects.filter(pk=payload["process_id"]).first()
    approved = request.status == ApprovalRequest.Status.APPROVED
    actions = (process.on_approved if approved else process.on_rejected) if process else []
    if not actions:
        return
    entity = ENTITIES[request.record_type]
    record = entity.model._default_manager.filter(pk=request.record_id).first()
    author = process.created_by if process.created_by and process.created_by.is_active else None
    author = author or request.decided_by
    now = timezone.now()
    steps: list[dict] = []
    for index, action in enumerate(actions):
        if record is None or author is None:
            error = "the record was deleted" if record is None else "the process has no author"
            steps.append({"type": action["type"], "status": "failed", "error": error})
            break
        ctx = Context(entity, record, author, f"approval-{request.pk}", index, now)
        try:
            with acting_as(author.pk, chain_depth=event.chain_depth + 1):
                detail = action_run(action, ctx)
        except (OperationalError, InterfaceError):
            raise  # transient: the outbox hands the event over again
        except Exception as exc:  # noqa: BLE001 - a permanent failure, recorded
            message = str(exc) if isinstance(exc, ActionFailed) else f"{type(exc).__name__}: {exc}"
            steps.append({"type": action["type"], "status": "failed", "error": message[:2000]})
            logger.info("approval %s: outcome action %s failed: %s", request.pk, index, message)
            break
        steps.append({"type": action["type"], "status": "succeeded", "detail": detail})
        record.refresh_from_db()
    request.outcome = {"at": now.isoformat(), "steps": steps}
    request.save(update_fields=["outcome"])
