"""What a rule does. Each action type has a `clean` (reject a bad definition with a
message naming the place) and a `run` (do it, return what was done for the log).

Actions go through the CRM's own services, as the rule's author, so they obey the same
validation, history and events as a person's change. `ActionFailed` is a permanent
failure (recorded, the run stops); database and broker errors propagate to be retried.
"""

from __future__ import annotations

import re
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Team, User
from accounts.roles import Role
from crm_platform.outbox.services import outbox_record

from .conditions import RuleError
from .entities import ENTITIES, RECORD, TEXT, Entity, coerce, fields_of, link_field, read

MAX_ACTIONS = 20
LANGUAGES = ("en", "zh-hans", "ja")


class ActionFailed(Exception):
    """A permanent failure: retrying would fail the same way."""


@dataclass
class Context:
    entity: Entity
    record: object
    author: User
    run_id: int
    index: int
    now: datetime


# --- recipients ------------------------------------------------------------------------

_RECIPIENT = re.compile(r"^(owner|owner_manager|actor|user:\d+|role:[a-z_]+)$")


def _clean_recipient(value, where, errors):
    if not isinstance(value, str) or not _RECIPIENT.match(value):
        errors[where] = "use owner, owner_manager, actor, user:<id> or role:<role>"
    elif (
        value.startswith("user:")
        and not User.objects.filter(pk=int(value[5:]), is_active=True).exists()
    ):
        errors[where] = "no such active user"
    elif value.startswith("role:") and value[5:] not in Role.values:
        errors[where] = f"no such role; use one of {', '.join(Role.values)}"
    return value


def recipients(spec: str, ctx: Context, *, actor_id: int | None = None) -> list[User]:
    record = ctx.record
    active = User.objects.filter(is_active=True)
    if spec == "owner":
        owner = getattr(record, "owner", None) or getattr(record, "assignee", None)
        return [owner] if owner is not None and owner.is_active else []
    if spec == "owner_manager":
        owner = getattr(record, "owner", None)
        team = getattr(owner, "team", None)
        return list(active.filter(pk=team.manager_id)) if team and team.manager_id else []
    if spec == "actor":
        return list(active.filter(pk=actor_id)) if actor_id else []
    if spec.startswith("user:"):
        return list(active.filter(pk=int(spec[5:])))
    return list(active.filter(role=spec[5:]).order_by("id"))


# --- text with {field} placeholders ------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


def _clean_text(entity, value, where, errors, *, required=True, max_length=2000):
    """A text, or a {language: text} map; placeholders must name fields of the record."""
    texts = value if isinstance(value, dict) else {"en": value}
    if set(texts) - set(LANGUAGES):
        errors[where] = f"languages are {', '.join(LANGUAGES)}"
        return value
    if required and not any(isinstance(t, str) and t.strip() for t in texts.values()):
        errors[where] = "a text is needed"
        return value
    fields = fields_of(entity)
    for text in texts.values():
        if not isinstance(text, str) or len(text) > max_length:
            errors[where] = f"a text of at most {max_length} characters is needed"
            return value
        for path in _PLACEHOLDER.findall(text):
            if path != "record" and path not in fields:
                errors[where] = f"unknown placeholder {{{path}}}"
    return value


def render(value, ctx: Context, language: str | None = None) -> str:
    texts = value if isinstance(value, dict) else {"en": value}
    text = texts.get(language or "") or texts.get("en") or next(iter(texts.values()), "")

    def fill(match):
        path = match.group(1)
        if path == "record":
            return str(ctx.record)
        found = read(ctx.record, path)
        return "" if found is None else str(found)

    return _PLACEHOLDER.sub(fill, text)


# --- the actions -----------------------------------------------------------------------


def _check_keys(config, allowed, where, errors):
    unknown = set(config) - set(allowed) - {"type"}
    if unknown:
        errors[where] = f"unknown keys: {', '.join(sorted(unknown))}"


def clean_update_fields(entity, config, where, errors):
    _check_keys(config, {"values"}, where, errors)
    _clean_values(entity, config.get("values"), f"{where}.values", errors)
    return config


def run_update_fields(config, ctx: Context) -> dict:
    data = _values_for(ctx.entity, config["values"], ctx)
    ctx.entity.update_record(ctx.record, actor=ctx.author, data=data)
    return {"updated": sorted(config["values"])}


def _clean_values(entity, values, where, errors) -> None:
    fields = fields_of(entity)
    if not isinstance(values, dict) or not values:
        errors[where] = "at least one field and value are needed"
        return
    for path, value in values.items():
        field = fields.get(path)
        if field is None or not field.writable:
            errors[f"{where}.{path}"] = "not a field this action can set"
            continue
        try:
            coerce(field, value)
        except ValueError as exc:
            errors[f"{where}.{path}"] = str(exc)


def _values_for(entity, values: dict, ctx: Context) -> dict:
    """Action values as service input: records loaded, {placeholders} in texts filled."""
    fields = fields_of(entity)
    data = {}
    for path, value in values.items():
        field = fields[path]
        if field.kind == TEXT and isinstance(value, str):
            value = render(value, ctx)
        if path.startswith("custom."):  # JSON, checked by the custom fields' validator
            data.setdefault("custom_fields", {})[path.removeprefix("custom.")] = value
            continue
        value = coerce(field, value)
        if field.kind == RECORD and value is not None:
            value = field.related._default_manager.filter(pk=value).first()
            if value is None:
                raise ActionFailed(f"{path}: the record it points to no longer exists")
        data[path] = value
    return data


def clean_create_record(entity, config, where, errors):
    _check_keys(config, {"entity", "values"}, where, errors)
    target = ENTITIES.get(config.get("entity"))
    if target is None:
        errors[f"{where}.entity"] = f"use one of {', '.join(ENTITIES)}"
    elif link_field(target, entity) is None:
        errors[f"{where}.entity"] = f"a {target.key} cannot be linked to a {entity.key}"
    else:
        _clean_values(target, config.get("values"), f"{where}.values", errors)
    return config


def run_create_record(config, ctx: Context) -> dict:
    """A new record linked to this one (a deal for a customer, a contact's activity),
    owned by this record's owner unless the values say otherwise."""
    target = ENTITIES[config["entity"]]
    data = _values_for(target, config["values"], ctx)
    data[link_field(target, ctx.entity)] = ctx.record
    owner = getattr(ctx.record, "owner", None)
    for key in ("owner", "assignee"):
        if owner is not None and key in fields_of(target) and key not in data:
            data[key] = owner
            break
    created = target.create(actor=ctx.author, data=data)
    return {"created": target.key, "id": created.pk}


def clean_create_task(entity, config, where, errors):
    _check_keys(config, {"subject", "due_in_days", "assignee", "priority"}, where, errors)
    _clean_text(entity, config.get("subject"), f"{where}.subject", errors, max_length=200)
    due = config.get("due_in_days", 1)
    if not isinstance(due, int) or isinstance(due, bool) or not 0 <= due <= 3650:
        errors[f"{where}.due_in_days"] = "a whole number of days from 0 to 3650 is needed"
    _clean_recipient(config.get("assignee", "owner"), f"{where}.assignee", errors)
    if config.get("priority", "normal") not in ("low", "normal", "high"):
        errors[f"{where}.priority"] = "use low, normal or high"
    return config


def run_create_task(config, ctx: Context) -> dict:
    from crm_core.models import Activity
    from crm_core.services.activities import activity_create

    assignees = recipients(config.get("assignee", "owner"), ctx)
    if not assignees:
        raise ActionFailed("nobody to assign the task to")
    link = {} if ctx.entity.key == "activity" else {ctx.entity.key: ctx.record}
    task = activity_create(
        actor=ctx.author,
        data={
            "kind": Activity.Kind.TASK,
            "subject": render(config["subject"], ctx, assignees[0].language)[:200],
            "assignee": assignees[0],
            "priority": config.get("priority", "normal"),
            "due_at": ctx.now + timedelta(days=config.get("due_in_days", 1)),
            **link,
        },
        now=ctx.now,
    )
    return {"activity_id": task.pk, "assignee_id": assignees[0].pk}


def clean_notify(entity, config, where, errors):
    _check_keys(config, {"to", "title", "body"}, where, errors)
    _clean_recipient(config.get("to", "owner"), f"{where}.to", errors)
    _clean_text(entity, config.get("title"), f"{where}.title", errors, max_length=200)
    if config.get("body") is not None:
        _clean_text(entity, config["body"], f"{where}.body", errors, required=False)
    return config


def run_notify(config, ctx: Context) -> dict:
    from crm_core.models import Notification
    from crm_core.services.notifications import notify

    users = recipients(config.get("to", "owner"), ctx)
    for user in users:
        notify(
            user=user,
            kind=Notification.Kind.AUTOMATION,
            title=render(config["title"], ctx, user.language),
            body=render(config.get("body") or "", ctx, user.language),
            dedupe_key=f"wf:{ctx.run_id}:{ctx.index}:{user.pk}",
            record_type=ctx.entity.key,
            record_id=ctx.record.pk,
        )
    return {"notified": [user.pk for user in users]}


def clean_send_email(entity, config, where, errors):
    _check_keys(config, {"to", "subject", "body"}, where, errors)
    _clean_recipient(config.get("to", "owner"), f"{where}.to", errors)
    _clean_text(entity, config.get("subject"), f"{where}.subject", errors, max_length=200)
    _clean_text(entity, config.get("body"), f"{where}.body", errors, max_length=10000)
    return config


def run_send_email(config, ctx: Context) -> dict:
    """Queue the e-mail through the outbox: it is sent after this step commits, once
    per recipient, in each recipient's language."""
    users = recipients(config.get("to", "owner"), ctx)
    for user in users:
        outbox_record(
            event_type="workflow.email",
            aggregate_type="workflow_run",
            aggregate_id=ctx.run_id,
            payload={
                "to": user.email,
                "subject": render(config["subject"], ctx, user.language)[:200],
                "body": render(config["body"], ctx, user.language),
            },
        )
    return {"emailed": [user.pk for user in users]}


def clean_assign_owner(entity, config, where, errors):
    _check_keys(config, {"user", "team", "assignment_rules"}, where, errors)
    given = [key for key in ("user", "team", "assignment_rules") if config.get(key)]
    if not hasattr(entity.model, "owner"):
        errors[where] = "this kind of record has no owner"
    elif len(given) != 1:
        errors[where] = "give one of: a user id, a team id (round-robin), assignment_rules: true"
    elif config.get("user") and not User.objects.filter(pk=config["user"], is_active=True).exists():
        errors[f"{where}.user"] = "no such active user"
    elif config.get("team") and not Team.objects.filter(pk=config["team"]).exists():
        errors[f"{where}.team"] = "no such team"
    elif config.get("assignment_rules") and entity.key not in ("lead", "customer"):
        errors[f"{where}.assignment_rules"] = "assignment rules exist for leads and customers"
    return config


def run_assign_owner(config, ctx: Context) -> dict:
    from crm_core.services.assignment import assignee_for

    if config.get("user"):
        owner = User.objects.filter(pk=config["user"], is_active=True).first()
    elif config.get("team"):
        owner = _next_in_team(config["team"])
    else:  # round-robin within the matching rule's team, under capacity
        owner = assignee_for(entity=ctx.entity.key, region_id=ctx.record.region_id)
    if owner is None:
        raise ActionFailed("no active user to assign (check the assignment rules)")
    ctx.entity.update_record(ctx.record, actor=ctx.author, data={"owner": owner})
    return {"owner_id": owner.pk}


def _next_in_team(team_id: int) -> User | None:
    """The team's next active member after the last one a rule assigned (row-locked,
    so concurrent runs take turns)."""
    from .models import WorkflowRoundRobin

    turn, _created = WorkflowRoundRobin.objects.get_or_create(team_id=team_id)
    turn = WorkflowRoundRobin.objects.select_for_update().get(pk=turn.pk)
    members = list(User.objects.filter(team_id=team_id, is_active=True).order_by("id"))
    if not members:
        return None
    after = [m for m in members if turn.last_assigned_id and m.pk > turn.last_assigned_id]
    turn.last_assigned = (after or members)[0]
    turn.save(update_fields=["last_assigned"])
    return turn.last_assigned


def clean_return_to_pool(entity, config, where, errors):
    _check_keys(config, {"reason"}, where, errors)
    if entity.key not in ("lead", "customer"):
        errors[where] = "only leads and customers have a public pool"
    return config


def run_return_to_pool(config, ctx: Context) -> dict:
    from crm_core.services.pool import pool_release

    if ctx.record.owner_id is None:
        return {"skipped": "already in the public pool"}
    pool_release(record=ctx.record, actor=ctx.author, reason=config.get("reason", ""), now=ctx.now)
    return {"returned": True}


def clean_call_webhook(entity, config, where, errors):
    from webhooks.models import Endpoint

    _check_keys(config, {"endpoint"}, where, errors)
    endpoint = config.get("endpoint")
    if not isinstance(endpoint, int) or not Endpoint.objects.filter(pk=endpoint).exists():
        errors[f"{where}.endpoint"] = "choose a webhook endpoint"
    return config


def run_call_webhook(config, ctx: Context) -> dict:
    """Send the record (with its custom fields, shaped for the endpoint's reader role)
    to the endpoint, signed and retried like every webhook; once per run and step."""
    from webhooks.services import delivery_for_action

    payload = {"id": ctx.record.pk, **ctx.entity.payload(ctx.record)}
    payload["custom_fields"] = ctx.record.custom_fields or {}
    delivery = delivery_for_action(
        endpoint_id=config["endpoint"],
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"crm-workflow-run:{ctx.run_id}:{ctx.index}"),
        entity=ctx.entity.key,
        data={"record_type": ctx.entity.key, **payload},
    )
    return {"delivery_id": delivery.pk}


def clean_request_approval(entity, config, where, errors):
    from customization.approvals.models import ApprovalProcess

    _check_keys(config, {"process"}, where, errors)
    process = config.get("process")
    if entity.key not in ("customer", "contact", "lead", "deal"):
        errors[where] = "customers, contacts, leads and deals go through approval processes"
    elif process is not None and not (
        isinstance(process, int)
        and ApprovalProcess.objects.filter(pk=process, entity=entity.key).exists()
    ):
        errors[f"{where}.process"] = "choose an approval process of this record type"
    return config


def run_request_approval(config, ctx: Context) -> dict:
    """Send the record into an approval process (the chosen one, else the first that
    applies), asked for by its owner. A record already waiting, or that meets no
    process's entry criteria, is left as it is."""
    from crm_core.services.approvals import approval_pending
    from customization.approvals.models import ApprovalProcess
    from customization.approvals.services import (
        approval_process_for,
        approval_submit,
        process_matches,
    )

    if approval_pending(record_type=ctx.entity.key, record_id=ctx.record.pk):
        return {"skipped": "already waiting for an approval"}
    if config.get("process"):
        process = ApprovalProcess.objects.filter(pk=config["process"], is_enabled=True).first()
        if process is None:
            raise ActionFailed("the approval process was deleted or disabled")
        if not process_matches(process, ctx.record):
            return {"skipped": "the record does not meet the process's entry criteria"}
    else:
        process = approval_process_for(entity=ctx.entity.key, record=ctx.record)
        if process is None:
            return {"skipped": "no approval process applies"}
    owner = getattr(ctx.record, "owner", None)
    request = approval_submit(
        record_type=ctx.entity.key,
        record=ctx.record,
        actor=ctx.author,
        process=process,
        requested_by=owner if owner is not None and owner.is_active else ctx.author,
        now=ctx.now,
    )
    return {"approval_id": request.pk, "process_id": process.pk}


def clean_wait(entity, config, where, errors):
    _check_keys(config, {"hours", "days"}, where, errors)
    hours = config.get("hours", 0) + 24 * config.get("days", 0)
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 24 * 365:
        errors[where] = "wait a whole number of hours or days, from 1 hour to 365 days"
    return config


def wait_until(config, now: datetime) -> datetime:
    return now + timedelta(hours=config.get("hours", 0), days=config.get("days", 0))


ACTIONS = {
    "update_fields": (clean_update_fields, run_update_fields),
    "create_task": (clean_create_task, run_create_task),
    "notify": (clean_notify, run_notify),
    "send_email": (clean_send_email, run_send_email),
    "assign_owner": (clean_assign_owner, run_assign_owner),
    "return_to_pool": (clean_return_to_pool, run_return_to_pool),
    "create_record": (clean_create_record, run_create_record),
    "call_webhook": (clean_call_webhook, run_call_webhook),
    "request_approval": (clean_request_approval, run_request_approval),
    "wait": (clean_wait, None),
}


def actions_clean(entity: Entity, actions) -> list[dict]:
    errors: dict[str, str] = {}
    if not isinstance(actions, list) or not actions:
        raise RuleError({"actions": "at least one action is needed"})
    if len(actions) > MAX_ACTIONS:
        raise RuleError({"actions": f"at most {MAX_ACTIONS} actions per rule"})
    for i, action in enumerate(actions):
        where = f"actions.{i}"
        if not isinstance(action, dict) or action.get("type") not in ACTIONS:
            errors[f"{where}.type"] = f"use one of {', '.join(ACTIONS)}"
            continue
        ACTIONS[action["type"]][0](entity, action, where, errors)
    if actions[-1].get("type") == "wait":
        errors[f"actions.{len(actions) - 1}"] = "a rule cannot end with a wait"
    if errors:
        raise RuleError(errors)
    return actions


# Actions whose only write is one call to a service that is atomic itself: when it fails
# its own savepoint is rolled back, so a second one around it would only add two round
# trips (a quarter of a task's).
SELF_CONTAINED = frozenset({"create_task"})


def action_run(action: dict, ctx: Context) -> dict:
    """Run one action in its own transaction; ActionFailed on a permanent failure."""
    own_savepoint = action["type"] not in SELF_CONTAINED
    try:
        with transaction.atomic() if own_savepoint else nullcontext():
            return ACTIONS[action["type"]][1](action, ctx)
    except ValidationError as exc:
        messages = getattr(exc, "message_dict", None) or {"": exc.messages}
        raise ActionFailed(
            "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in messages.items())
        ) from exc
    except PermissionDenied as exc:
        raise ActionFailed("the rule's author may not make this change") from exc
    except ObjectDoesNotExist as exc:
        raise ActionFailed(f"a record it needs no longer exists ({exc})") from exc
