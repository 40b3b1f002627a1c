"""What every owned record (customer, contact, lead, deal) shares: who sees it, who may
change it, its normalised keys, its field history and its outbox events.

Services call these; nothing here is specific to one kind of record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.roles import Perm, Visibility, has_perm, visibility_of
from crm_platform.kernel.models import CustomizableModel
from crm_platform.outbox.services import outbox_record
from customization.records import record_custom_apply

from .models import FieldChange

# --- visibility ----------------------------------------------------------------------


def team_ids_led_by(user) -> list[int]:
    """Teams whose records a manager sees: the teams they manage and their own team."""
    ids = set(Team.objects.filter(manager=user).values_list("id", flat=True))
    if user.team_id:
        ids.add(user.team_id)
    return sorted(ids)


def visible_q(user, *, include_pool: bool = False) -> Q:
    """The records `user` may see, as a filter on an owned-record queryset."""
    scope = visibility_of(user)
    if scope == Visibility.ALL:
        return Q()
    mine = Q(owner=user)
    if scope == Visibility.TEAM:
        mine |= Q(team_id__in=team_ids_led_by(user)) | Q(owner__team_id__in=team_ids_led_by(user))
    if include_pool and has_perm(user, Perm.USE_POOL):
        mine |= Q(owner__isnull=True)
    return mine


def visible(queryset: QuerySet, user, *, include_pool: bool = False) -> QuerySet:
    if not has_perm(user, Perm.VIEW_RECORDS):
        return queryset.none()
    condition = visible_q(user, include_pool=include_pool)
    return queryset.filter(condition) if condition else queryset  # all: nothing to add


def can_see(user, record, *, include_pool: bool = True) -> bool:
    if visibility_of(user) == Visibility.ALL and record.pk is not None:
        return has_perm(user, Perm.VIEW_RECORDS)  # every record: no need to ask the database
    return visible(
        type(record).objects.filter(pk=record.pk), user, include_pool=include_pool
    ).exists()


def ensure_can_change(user, record) -> None:
    """Raise PermissionDenied unless `user` may edit `record` (which they can see)."""
    if not has_perm(user, Perm.CHANGE_RECORDS) or not can_see(user, record, include_pool=False):
        raise PermissionDenied


# --- normalised keys -----------------------------------------------------------------

_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
# Compiled once: these keys are computed for every imported row, where re.sub's pattern
# cache lookup costs as much as the substitution.
_NON_DIGITS = re.compile(r"\D")
_COMPANY_SUFFIXES = re.compile(
    r"(有限责任公司|股份有限公司|有限公司|株式会社|有限会社|合同会社|"
    r"\b(co|corp|corporation|inc|ltd|llc|gmbh|limited|company)\b)",
    re.IGNORECASE,
)


def name_key(name: str) -> str:
    """A name for duplicate detection: width-folded, lowercased, without punctuation and
    common company suffixes ("株式会社テスト" and "テスト" match; "ACME Inc." and "acme")."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = _COMPANY_SUFFIXES.sub("", text)
    return _PUNCTUATION.sub("", text)[:200]


def phone_key(phone: str) -> str:
    """The last 9 digits: the same number written with a country code or with a national
    trunk 0 ("+81 3 5555 0101" / "03-5555-0101", "+86 138 0013 8000" / "13800138000")
    compares equal; a rare clash only raises a duplicate warning."""
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", phone or ""))
    return digits[-9:]


def search_text(*parts: str | Iterable[str]) -> str:
    """Lowercased, width-folded text of names, e-mails and phones (with digits-only
    phones too, so "138 0013" finds "+86 138-0013-8000")."""
    words: list[str] = []
    for part in parts:
        for value in [part] if isinstance(part, str) else list(part or ()):
            if value:
                folded = unicodedata.normalize("NFKC", value).lower()
                words.append(folded)
                digits = _NON_DIGITS.sub("", folded)
                if len(digits) >= 5 and digits != folded:
                    words.append(digits)
    return " ".join(words)


# --- history and events ----------------------------------------------------------------


def snapshot(record: Model, fields: Iterable[str]) -> dict[str, str]:
    """Key fields as text; a foreign key as its id (read from `attname`, so the related
    row is never fetched)."""
    meta = record._meta
    return {field: _display(getattr(record, meta.get_field(field).attname)) for field in fields}


def _display(value) -> str:
    return "" if value is None else str(value)[:200]


def record_field_changes(
    *, record_type: str, record: Model, before: dict[str, str], actor
) -> list[str]:
    """Write FieldChange rows for every key field that changed; returns their names."""
    after = snapshot(record, before)
    changed = [field for field in before if before[field] != after[field]]
    now = timezone.now()
    FieldChange.objects.bulk_create(
        FieldChange(
            record_type=record_type,
            record_id=record.pk,
            field=field,
            old_value=before[field],
            new_value=after[field],
            changed_by=actor if getattr(actor, "pk", None) else None,
            changed_at=now,
        )
        for field in changed
    )
    return changed


def record_event(
    *, record_type: str, action: str, record: Model, payload: dict, actor=None
) -> None:
    """`<record_type>.<action>` into the outbox, inside the caller's transaction; the
    actor defaults to the request's user (see crm_platform/outbox/actor.py)."""
    outbox_record(
        event_type=f"{record_type}.{action}",
        aggregate_type=record_type,
        aggregate_id=record.pk,
        # Custom fields travel with every record event; consumers shape the payload for
        # a reader's role with customization.security.shape_payload.
        payload={"id": record.pk, **payload, **_custom_fields(record)},
        actor_id=getattr(actor, "pk", None),
    )


def _custom_fields(record: Model) -> dict:
    if isinstance(record, CustomizableModel):
        return {"custom_fields": dict(record.custom_fields or {})}
    return {}


# --- applying and validating input ------------------------------------------------------


# Records an approval process locks while a request is pending (quotes and contracts
# check their own status).
APPROVAL_LOCKED = frozenset({"customer", "contact", "lead", "deal"})


def record_apply(record: Model, data: dict, *, editable: Iterable[str], actor=None) -> None:
    """Set `data` on `record`. Refused while the record waits for an approval. Keys
    outside `editable` are refused (no mass assignment);
    with an `actor`, changing an existing record's owner or team needs REASSIGN_RECORDS.
    Customizable records take `custom_fields` too (validated by customization/, which
    also enforces the actor's field security)."""
    if record.pk and record._meta.model_name in APPROVAL_LOCKED:
        from .services.approvals import approval_ensure_unlocked

        approval_ensure_unlocked(record_type=record._meta.model_name, record_id=record.pk)
    if isinstance(record, CustomizableModel):
        data = record_custom_apply(record, data, actor=actor)
    unknown = set(data) - set(editable)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    if actor is not None and record.pk and not has_perm(actor, Perm.REASSIGN_RECORDS):
        if any(
            field in data and data[field] != getattr(record, field) for field in ("owner", "team")
        ):
            raise PermissionDenied
    for field, value in data.items():
        setattr(record, field, value)


def user_field_valid(record: Model, field: str) -> bool:
    """Whether the user in `field` (owner, a deal team role) may stay there: an active
    user, or the one the saved record already has. Someone who left keeps their records
    until they are reassigned, and those records stay editable meanwhile; only a new
    assignment must name an active user."""
    user_id = getattr(record, f"{field}_id")
    if not user_id or User.objects.filter(pk=user_id, is_active=True).exists():
        return True
    manager = type(record)._base_manager
    return (
        record.pk is not None and manager.filter(pk=record.pk, **{f"{field}_id": user_id}).exists()
    )


def validate_model(
    record: Model, errors: dict[str, list[str]], *, exclude: Iterable[str] = ()
) -> None:
    """Raise one ValidationError with `errors` (the service's own checks) and the model's
    field validation, so every bad field is named at once."""
    try:
        record.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def record_updated(
    *, record_type: str, record: Model, before: dict[str, str], data: dict, actor, payload: dict
) -> list[str]:
    """After saving an update: key-field history, `<type>.updated`, and
    `<type>.owner_changed` when the owner moved. Returns the key fields that changed."""
    changed = record_field_changes(
        record_type=record_type, record=record, before=before, actor=actor
    )
    record_event(
        record_type=record_type,
        action="updated",
        actor=actor,
        record=record,
        # `previous`: the old values of the key fields that changed (for "changed from").
        payload={
            **payload,
            "changed": sorted(data),
            "previous": {field: before[field] for field in changed},
        },
    )
    if "owner" in changed:
        record_event(
            record_type=record_type,
            action="owner_changed",
            record=record,
            payload={"from": before["owner"] or None, "to": record.owner_id},
        )
    return changed
