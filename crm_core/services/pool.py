"""The public pool of leads and customers, its rules, assignment rules and regions.

A lead or customer without an owner is in the pool. Reps claim from it (within a daily
limit and a maximum held), release to it, and the periodic sweep returns records nobody
followed up for `return_after_days`, warning the owner `warn_days_before` that. A
previous owner cannot reclaim a record for `reclaim_block_days`. Every move is a PoolMove
row, a key-field change of the owner and an outbox event (`lead.claimed`,
`customer.released`, `lead.returned_to_pool`, `customer.assigned`, ...).

Every function takes `now` so that tests (and replays) control the clock.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm

from ..models import AssignmentRule, Customer, Lead, Notification, PoolMove, PoolSettings, Region
from ..records import (
    ensure_can_change,
    record_apply,
    record_event,
    record_field_changes,
    snapshot,
    validate_model,
)
from .approvals import approval_ensure_unlocked, approval_is_pending
from .assignment import assignee_for
from .notifications import notify

logger = logging.getLogger(__name__)

PoolRecord = Lead | Customer
RECORD_TYPES: dict[type, str] = {Lead: "lead", Customer: "customer"}
# Upper bounds that keep a typo (365000 days) from meaning "never".
SETTING_LIMITS = {
    "return_after_days": (1, 3650),
    "warn_days_before": (0, 365),
    "reclaim_block_days": (0, 3650),
    "daily_claim_limit": (0, 100_000),
    "max_held": (0, 1_000_000),
}
SETTING_FIELDS = (*SETTING_LIMITS, "auto_return_enabled")


def _ensure(actor: User | None, perm: str) -> None:
    if not has_perm(actor, perm):
        raise PermissionDenied


# --- settings ------------------------------------------------------------------------


def pool_settings_get() -> PoolSettings:
    """The company's pool rules (the one row, created with the defaults when missing)."""
    settings = PoolSettings.objects.order_by("id").first()
    if settings is None:
        try:
            with transaction.atomic():
                settings = PoolSettings.objects.create()
        except IntegrityError:  # pragma: no cover - a concurrent first use created it
            settings = PoolSettings.objects.order_by("id").first()
    return settings


@transaction.atomic
def pool_settings_update(*, actor: User, data: dict) -> PoolSettings:
    _ensure(actor, Perm.MANAGE_POOL_RULES)
    unknown = set(data) - set(SETTING_FIELDS)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    settings = PoolSettings.objects.select_for_update().get(pk=pool_settings_get().pk)
    for field, value in data.items():
        setattr(settings, field, value)
    errors: dict[str, list[str]] = {}
    for field, (low, high) in SETTING_LIMITS.items():
        value = getattr(settings, field)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[field] = [
                _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
            ]
    if "warn_days_before" not in errors and "return_after_days" not in errors:
        if settings.warn_days_before >= settings.return_after_days:
            errors["warn_days_before"] = [
                _("The warning must come before the return (fewer days than %(days)d).")
                % {"days": settings.return_after_days}
            ]
    if errors:
        raise ValidationError(errors)
    settings.save()
    outbox_payload = {field: getattr(settings, field) for field in SETTING_FIELDS}
    record_event(
        record_type="pool_settings", action="updated", record=settings, payload=outbox_payload
    )
    return settings


# --- claim and release -----------------------------------------------------------------


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def claims_today(*, user: User, now: datetime | None = None) -> int:
    start = _day_start(now or timezone.now())
    return PoolMove.objects.filter(
        actor=user, action=PoolMove.Action.CLAIM, at__gte=start, at__lt=start + timedelta(days=1)
    ).count()


def held_count(*, user: User, record_type: str) -> int:
    """Open records of one kind the user owns (converted or unqualified leads are not
    held: they no longer need following up)."""
    if record_type == "lead":
        return (
            Lead.objects.filter(owner=user)
            .exclude(status__in=[Lead.Status.CONVERTED, Lead.Status.UNQUALIFIED])
            .count()
        )
    return Customer.objects.filter(owner=user).count()


def pool_claim(*, record: PoolRecord, actor: User, now: datetime | None = None) -> PoolRecord:
    """`actor` takes `record` from the public pool; of concurrent claims exactly one wins.

    Refused (ValidationError) when the record is no longer in the pool, when the actor
    released it less than reclaim_block_days ago, or when the actor reached the daily
    claim limit or the maximum of records held (counted per kind: leads, customers).
    """
    _ensure(actor, Perm.USE_POOL)
    now = now or timezone.now()
    model, record_type = type(record), RECORD_TYPES[type(record)]
    settings = pool_settings_get()
    with transaction.atomic():
        # One rep's claims queue up, so that two at once cannot both pass the limits.
        list(User.objects.select_for_update().filter(pk=actor.pk).values_list("pk", flat=True))
        record = model.objects.select_for_update().get(pk=record.pk)
        if record.owner_id is not None:
            raise ValidationError(_("Someone else has already claimed this record."))
        approval_ensure_unlocked(record_type=record_type, record_id=record.pk)
        if (
            record.previous_owner_id == actor.pk
            and record.reclaim_blocked_until
            and now < record.reclaim_blocked_until
        ):
            raise ValidationError(
                _("You released this record; you can claim it again from %(date)s.")
                % {
                    "date": formats.date_format(
                        timezone.localtime(record.reclaim_blocked_until), "SHORT_DATETIME_FORMAT"
                    )
                }
            )
        if claims_today(user=actor, now=now) >= settings.daily_claim_limit:
            raise ValidationError(
                _("You have reached today's limit of %(count)d claims.")
                % {"count": settings.daily_claim_limit}
            )
        if held_count(user=actor, record_type=record_type) >= settings.max_held:
            raise ValidationError(
                _("You already hold the maximum of %(count)d records of this kind.")
                % {"count": settings.max_held}
            )
        before = snapshot(record, ("owner", "team"))
        record.owner = actor
        record.team_id = actor.team_id or record.team_id
        record.pool_entered_at = None
        record.reclaim_blocked_until = None
        record.pool_warned_at = None
        record.last_activity_at = now  # the follow-up clock starts again
        record.save(
            update_fields=[
                "owner",
                "team",
                "pool_entered_at",
                "reclaim_blocked_until",
                "pool_warned_at",
                "last_activity_at",
                "updated_at",
            ]
        )
        record_field_changes(record_type=record_type, record=record, before=before, actor=actor)
        PoolMove.objects.create(
            record_type=record_type,
            record_id=record.pk,
            action=PoolMove.Action.CLAIM,
            to_user=actor,
            actor=actor,
            at=now,
        )
        record_event(
            record_type=record_type,
            action="claimed",
            record=record,
            payload={"owner_id": actor.pk, "team_id": record.team_id},
        )
    return record


def _into_pool(
    *,
    record: PoolRecord,
    record_type: str,
    action: str,
    actor: User | None,
    reason: str,
    now: datetime,
    settings: PoolSettings,
) -> None:
    """Put a locked, owned record into the pool and record the move."""
    previous = record.owner
    before = snapshot(record, ("owner",))
    record.owner = None
    record.previous_owner = previous
    record.pool_entered_at = now
    record.reclaim_blocked_until = now + timedelta(days=settings.reclaim_block_days)
    record.pool_warned_at = None
    record.save(
        update_fields=[
            "owner",
            "previous_owner",
            "pool_entered_at",
            "reclaim_blocked_until",
            "pool_warned_at",
            "updated_at",
        ]
    )
    record_field_changes(record_type=record_type, record=record, before=before, actor=actor)
    PoolMove.objects.create(
        record_type=record_type,
        record_id=record.pk,
        action=action,
        from_user=previous,
        actor=actor,
        reason=reason[:200],
        at=now,
    )
    record_event(
        record_type=record_type,
        action="released" if action == PoolMove.Action.RELEASE else "returned_to_pool",
        record=record,
        payload={
            "previous_owner_id": previous.pk if previous else None,
            "reason": reason[:200],
            "reclaim_blocked_until": record.reclaim_blocked_until.isoformat(),
        },
    )


def _assign_from_pool(
    *, record: PoolRecord, record_type: str, actor: User, now: datetime
) -> User | None:
    """Hand a pooled record to the next owner by the assignment rules for its region;
    it stays in the pool when no rule matches or everyone is at capacity. The previous
    owner is skipped by their own reclaim block: they released it."""
    assignee = assignee_for(entity=record_type, region_id=record.region_id)
    if assignee is None or assignee.pk == record.previous_owner_id:
        return None
    before = snapshot(record, ("owner", "team"))
    record.owner = assignee
    record.team_id = assignee.team_id or record.team_id
    record.pool_entered_at = None
    record.last_activity_at = now
    record.save(
        update_fields=["owner", "team", "pool_entered_at", "last_activity_at", "updated_at"]
    )
    record_field_changes(record_type=record_type, record=record, before=before, actor=actor)
    PoolMove.objects.create(
        record_type=record_type,
        record_id=record.pk,
        action=PoolMove.Action.ASSIGN,
        to_user=assignee,
        actor=actor,
        at=now,
    )
    record_event(
        record_type=record_type,
        action="assigned",
        record=record,
        payload={"owner_id": assignee.pk, "team_id": record.team_id},
    )
    notify(
        user=assignee,
        kind=Notification.Kind.ASSIGNED,
        title=_("%(name)s was assigned to you") % {"name": record.name},
        record_type=record_type,
        record_id=record.pk,
        dedupe_key=f"assigned:{record_type}:{record.pk}:{assignee.pk}:{now.isoformat()}",
    )
    return assignee


def pool_release(
    *,
    record: PoolRecord,
    actor: User,
    reason: str = "",
    assign: bool = False,
    now: datetime | None = None,
) -> PoolRecord:
    """Put a record the actor may change back into the public pool.

    With `assign` (leaders only) the record is then handed on by the assignment rules
    for its kind and region (round-robin within the rule's team, under capacity), the
    previous owner excepted; without a matching rule it stays in the pool.
    """
    _ensure(actor, Perm.USE_POOL)
    if assign:
        _ensure(actor, Perm.REASSIGN_RECORDS)
    now = now or timezone.now()
    model, record_type = type(record), RECORD_TYPES[type(record)]
    settings = pool_settings_get()
    with transaction.atomic():
        record = model.objects.select_for_update().get(pk=record.pk)
        if record.owner_id is None:
            raise ValidationError(_("This record is already in the public pool."))
        ensure_can_change(actor, record)
        approval_ensure_unlocked(record_type=record_type, record_id=record.pk)
        if isinstance(record, Lead) and record.status == Lead.Status.CONVERTED:
            raise ValidationError(_("A converted lead cannot go back to the public pool."))
        _into_pool(
            record=record,
            record_type=record_type,
            action=PoolMove.Action.RELEASE,
            actor=actor,
            reason=(reason or "").strip(),
            now=now,
            settings=settings,
        )
        if assign:
            _assign_from_pool(record=record, record_type=record_type, actor=actor, now=now)
    return record


# --- the periodic sweep ----------------------------------------------------------------


def _owned(model) -> object:
    queryset = model.objects.filter(owner__isnull=False)
    if model is Lead:
        queryset = queryset.exclude(status=Lead.Status.CONVERTED)
    # The follow-up clock: the last follow-up, else when it was claimed (claims set
    # last_activity_at) or created.
    return queryset.annotate(clock=Coalesce("last_activity_at", "created_at"))


def pool_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Return to the pool every owned lead and customer without a follow-up for
    return_after_days, and warn the owners of those within warn_days_before of it.

    Idempotent: a second run finds nothing to return and the warnings already sent
    (pool_warned_at after the last follow-up, and the notification's dedupe key).
    Each record is its own transaction, skipping rows another transaction holds.
    """
    now = now or timezone.now()
    settings = pool_settings_get()
    result = {"returned": 0, "warned": 0}
    if not settings.auto_return_enabled:
        return result
    return_before = now - timedelta(days=settings.return_after_days)
    warn_before = return_before + timedelta(days=settings.warn_days_before)
    for model, record_type in RECORD_TYPES.items():
        due = _owned(model).filter(clock__lte=return_before).order_by("pk")
        for pk in due.values_list("pk", flat=True).iterator(chunk_size=500):
            result["returned"] += _auto_return(
                model, record_type, pk, return_before=return_before, now=now, settings=settings
            )
        if not settings.warn_days_before:
            continue
        soon = (
            _owned(model)
            .filter(clock__gt=return_before, clock__lte=warn_before)
            .filter(Q(pool_warned_at__isnull=True) | Q(pool_warned_at__lt=F("clock")))
            .order_by("pk")
        )
        for pk in soon.values_list("pk", flat=True).iterator(chunk_size=500):
            result["warned"] += _warn(model, record_type, pk, now=now, settings=settings)
    if result["returned"] or result["warned"]:
        logger.info("pool sweep: %(returned)d returned, %(warned)d warned", result)
    return result


@transaction.atomic
def _auto_return(model, record_type, pk, *, return_before, now, settings) -> int:
    record = (
        _owned(model)
        .select_for_update(skip_locked=True, of=("self",))
        .filter(pk=pk, clock__lte=return_before)
        .first()
    )
    if record is None:  # followed up, released or claimed meanwhile, or locked
        return 0
    if approval_is_pending(record_type=record_type, record_id=record.pk):
        return 0  # stays with its owner until decided; a later sweep returns it
    _into_pool(
        record=record,
        record_type=record_type,
        action=PoolMove.Action.AUTO_RETURN,
        actor=None,
        reason=_("No follow-up for %(days)d days.") % {"days": settings.return_after_days},
        now=now,
        settings=settings,
    )
    return 1


@transaction.atomic
def _warn(model, record_type, pk, *, now, settings) -> int:
    record = (
        _owned(model)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("owner")
        .filter(pk=pk)
        .filter(Q(pool_warned_at__isnull=True) | Q(pool_warned_at__lt=F("clock")))
        .first()
    )
    if record is None:
        return 0
    returns_at = record.clock + timedelta(days=settings.return_after_days)
    notification = notify(
        user=record.owner,
        kind=Notification.Kind.POOL_RETURN_WARNING,
        title=_("%(name)s returns to the public pool on %(date)s without a follow-up")
        % {
            "name": record.name,
            "date": formats.date_format(timezone.localtime(returns_at), "SHORT_DATE_FORMAT"),
        },
        record_type=record_type,
        record_id=record.pk,
        due_at=returns_at,
        dedupe_key=(
            f"pool_return_warning:{record_type}:{record.pk}:{record.owner_id}:"
            f"{int(record.clock.timestamp())}"
        ),
    )
    record.pool_warned_at = now
    record.save(update_fields=["pool_warned_at"])
    return 1 if notification else 0


# --- assignment rules ------------------------------------------------------------------

RULE_FIELDS = ("name", "entity", "region", "team", "capacity", "position", "is_active")


def _clean_rule(rule: AssignmentRule) -> None:
    errors: dict[str, list[str]] = {}
    rule.name = (rule.name or "").strip()
    if rule.team_id is None:
        errors["team"] = [_("Choose the team whose members take turns.")]
    if rule.capacity is not None and rule.capacity < 1:
        errors["capacity"] = [_("Enter at least 1, or leave empty for no cap.")]
    validate_model(rule, errors, exclude=["team", "region", "last_assigned"])


def _rule_payload(rule: AssignmentRule) -> dict:
    return {
        "name": rule.name,
        "entity": rule.entity,
        "region_id": rule.region_id,
        "team_id": rule.team_id,
        "capacity": rule.capacity,
        "position": rule.position,
        "is_active": rule.is_active,
    }


@transaction.atomic
def assignment_rule_create(*, actor: User, data: dict) -> AssignmentRule:
    _ensure(actor, Perm.MANAGE_POOL_RULES)
    rule = AssignmentRule()
    record_apply(rule, data, editable=RULE_FIELDS)
    _clean_rule(rule)
    rule.save()
    record_event(
        record_type="assignment_rule", action="created", record=rule, payload=_rule_payload(rule)
    )
    return rule


@transaction.atomic
def assignment_rule_update(*, rule: AssignmentRule, actor: User, data: dict) -> AssignmentRule:
    _ensure(actor, Perm.MANAGE_POOL_RULES)
    rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    record_apply(rule, data, editable=RULE_FIELDS)
    _clean_rule(rule)
    rule.save()
    record_event(
        record_type="assignment_rule", action="updated", record=rule, payload=_rule_payload(rule)
    )
    return rule


@transaction.atomic
def assignment_rule_delete(*, rule: AssignmentRule, actor: User) -> None:
    _ensure(actor, Perm.MANAGE_POOL_RULES)
    record_event(
        record_type="assignment_rule", action="deleted", record=rule, payload={"name": rule.name}
    )
    rule.delete()


# --- regions ---------------------------------------------------------------------------


def _clean_region(region: Region) -> None:
    region.name = (region.name or "").strip()
    try:
        region.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


@transaction.atomic
def region_create(*, actor: User, data: dict) -> Region:
    _ensure(actor, Perm.MANAGE_POOL_RULES)
    region = Region()
    record_apply(region, data, editable=("name",))
    _clean_region(region)
    region.save()
    record_event(
        record_type="region", action="created", record=region, payload={"name": region.name}
    )
    return region


@transaction.atomic
def region_update(*, region: Region, actor: User, data: dict) -> Region:
    _ensure(actor, Perm.MANAGE_POOL_RULES)
    region = Region.objects.select_for_update().get(pk=region.pk)
    record_apply(region, data, editable=("name",))
    _clean_region(region)
    region.save()
    record_event(
        record_type="region", action="updated", record=region, payload={"name": region.name}
    )
    return region


@transaction.atomic
def region_delete(*, region: Region, actor: User) -> None:
    """Records keep no region afterwards; refused while an assignment rule uses it (its
    deletion would silently delete the rule)."""
    _ensure(actor, Perm.MANAGE_POOL_RULES)
    if AssignmentRule.objects.filter(region=region).exists():
        raise ValidationError(
            {"region": [_("Assignment rules use this region; change or delete them first.")]}
        )
    record_event(
        record_type="region", action="deleted", record=region, payload={"name": region.name}
    )
    region.delete()
