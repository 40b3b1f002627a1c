"""What starts a rule. Record events (created, updated, field changed, stage entered)
are matched as the outbox hands them over; time-based triggers (no activity for N
days, N days before/after a date, a cron schedule) are found by the beat sweep.

Each firing has a key that makes it happen once: the event id, or the date/slot the
time-based trigger stands for, so a sweep that runs twice changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from croniter import croniter
from django.db.models import Q
from django.utils import timezone

from .conditions import RuleError
from .entities import DATE, DATETIME, Entity, coerce, fields_of

EVENT_TRIGGERS = ("created", "updated", "field_changed", "stage_entered")
TIME_TRIGGERS = ("no_activity", "date_relative", "schedule")
MAX_DAYS = 3650


def trigger_clean(entity: Entity, trigger) -> dict:
    """The trigger with only its own keys, or RuleError naming what is wrong."""
    if not isinstance(trigger, dict):
        raise RuleError({"trigger": "expected an object with a type"})
    kind = trigger.get("type")
    allowed = {
        "created": set(),
        "updated": set(),
        "field_changed": {"field", "from", "to"},
        "stage_entered": {"stage"},
        "no_activity": {"days"},
        "date_relative": {"field", "days", "yearly"},
        "schedule": {"cron"},
    }
    if kind not in allowed:
        raise RuleError({"trigger.type": f"use one of {', '.join(allowed)}"})
    unknown = set(trigger) - allowed[kind] - {"type"}
    if unknown:
        raise RuleError({"trigger": f"unknown keys for {kind}: {', '.join(sorted(unknown))}"})
    errors: dict[str, str] = {}
    cleaned = {"type": kind}
    fields = fields_of(entity)
    if kind == "field_changed":
        field = fields.get(trigger.get("field"))
        if field is None or "." in field.path:
            errors["trigger.field"] = f"unknown field {trigger.get('field')!r}"
        else:
            cleaned["field"] = field.path
            for end in ("from", "to"):
                if trigger.get(end) not in (None, ""):
                    try:
                        coerce(field, trigger[end])
                        cleaned[end] = trigger[end]
                    except ValueError as exc:
                        errors[f"trigger.{end}"] = str(exc)
    elif kind == "stage_entered":
        if entity.key != "deal":
            errors["trigger.type"] = "only deals have stages"
        elif not isinstance(trigger.get("stage"), int):
            errors["trigger.stage"] = "a stage id is needed"
        else:
            from crm_core.models import Stage

            if not Stage.objects.filter(pk=trigger["stage"]).exists():
                errors["trigger.stage"] = "no such stage"
            cleaned["stage"] = trigger["stage"]
    elif kind == "no_activity":
        if not hasattr(entity.model, "last_activity_at"):
            errors["trigger.type"] = "this kind of record has no follow-ups"
        cleaned["days"] = _days(trigger.get("days"), errors, minimum=1)
    elif kind == "date_relative":
        field = fields.get(trigger.get("field"))
        if field is None or field.kind not in (DATE, DATETIME) or "." in field.path:
            errors["trigger.field"] = "a date field of this record is needed"
        else:
            cleaned["field"] = field.path
        cleaned["days"] = _days(trigger.get("days"), errors, minimum=-MAX_DAYS)
        cleaned["yearly"] = bool(trigger.get("yearly", False))
    elif kind == "schedule":
        cron = str(trigger.get("cron", "")).strip()
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            errors["trigger.cron"] = "a cron expression of 5 fields is needed, e.g. 0 9 * * 1"
        cleaned["cron"] = cron
    if errors:
        raise RuleError(errors)
    return cleaned


def _days(value, errors, *, minimum) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_DAYS:
        errors["trigger.days"] = f"a whole number of days from {minimum} to {MAX_DAYS} is needed"
        return None
    return value


def event_matches(trigger: dict, entity: Entity, event) -> bool:
    """Whether an outbox event of `entity` fires `trigger`."""
    action = event.event_type.removeprefix(f"{entity.key}.")
    kind = trigger["type"]
    if kind == "created":
        return action == "created"
    if kind == "updated":
        return action == "updated"
    if kind == "field_changed":
        if action != "updated" or trigger["field"] not in event.payload.get("changed", ()):
            return False
        field = fields_of(entity)[trigger["field"]]
        previous = event.payload.get("previous", {})
        if "from" in trigger:
            if trigger["field"] not in previous:
                return False  # the old value of this field is not recorded
            if _as_text(field, previous[trigger["field"]]) != _as_text(field, trigger["from"]):
                return False
        if "to" in trigger:
            now = event.payload.get(trigger["field"], event.payload.get(f"{trigger['field']}_id"))
            return _as_text(field, now) == _as_text(field, trigger["to"])
        return True
    if kind == "stage_entered":
        return action == "stage_changed" and event.payload.get("to_stage_id") == trigger["stage"]
    return False


def _as_text(field, value) -> str:
    try:
        value = coerce(field, value)
    except ValueError:
        pass
    if isinstance(value, Decimal):
        value = value.normalize()  # 500000.00 and 500000 are the same amount
    return "" if value is None else str(value)


# --- time-based triggers ---------------------------------------------------------------


def due_firings(trigger: dict, entity: Entity, *, now: datetime, last_sweep: datetime):
    """(queryset filter, firing key) pairs for the records the trigger fires on now.

    A firing is due when its moment fell in (last_sweep, now]; the key names that
    moment so a repeated sweep finds the same key and does nothing new.
    """
    kind = trigger["type"]
    today = timezone.localdate(now)
    if kind == "no_activity":
        # Idle since before `now - days`; keyed by the last follow-up, so a record fires
        # once per quiet spell and again after a new follow-up goes quiet.
        cutoff = now - timedelta(days=trigger["days"])
        yield (
            Q(last_activity_at__lte=cutoff)
            | Q(last_activity_at__isnull=True, created_at__lte=cutoff),
            "idle:{last_activity_at}",
        )
    elif kind == "date_relative":
        # Every day from the last sweep's to today (at most a month back, after an outage):
        # the records whose date, shifted by `days`, falls on that day.
        span = max(0, min((today - timezone.localdate(last_sweep)).days, 31))
        for back in range(span, -1, -1):
            target = today - timedelta(days=back) - timedelta(days=trigger["days"])
            yield _date_filter(entity, trigger, target), f"date:{target.isoformat()}"
    elif kind == "schedule":
        slot = croniter(trigger["cron"], now).get_prev(datetime)
        if slot > last_sweep:
            yield Q(), f"cron:{slot.isoformat()}"


def _date_filter(entity: Entity, trigger: dict, target: date) -> Q:
    field = trigger["field"]
    if fields_of(entity)[field].kind == DATETIME:
        field = f"{field}__date"
    if trigger.get("yearly"):
        return Q(**{f"{field}__month": target.month, f"{field}__day": target.day})
    return Q(**{field: target})
