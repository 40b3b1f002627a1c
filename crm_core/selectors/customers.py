"""Reads of customers: lean lists, one customer, its 360-degree timeline."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from crm_platform.kernel.lean_rows import values_base

from ..models import Activity, Customer, FieldChange, PoolMove
from ..records import visible
from .search import search_filter

# What a list row carries: built with .values(), no per-row serializer (design.md).
LIST_FIELDS = (
    "id",
    "name",
    "kind",
    "industry",
    "source",
    "relationship_stage",
    "lifecycle_stage",
    "value_tier",
    "is_key_account",
    "email",
    "phone",
    "owner_id",
    "owner__full_name",
    "team_id",
    "region_id",
    "tags",
    "last_activity_at",
    "created_at",
    "updated_at",
    "custom_fields",
)
ORDERINGS = {
    "-id",
    "id",
    "name",
    "-name",
    "-updated_at",
    "updated_at",
    "-created_at",
    "created_at",
    "-last_activity_at",
    "last_activity_at",
}


def customer_queryset(
    *, user, filters: dict | None = None, base: QuerySet | None = None
) -> QuerySet[Customer]:
    """Customers `user` may see (with the public pool), narrowed by `filters`:
    q (name, e-mail or phone fragment), owner ("me", "pool" or an id), team, region,
    kind, relationship_stage, lifecycle_stage, value_tier, is_key_account, tag."""
    filters = filters or {}
    queryset = visible(Customer.objects.all() if base is None else base, user, include_pool=True)
    queryset = search_filter(queryset, filters.get("q") or "", user=user)
    owner = filters.get("owner")
    if owner == "me":
        queryset = queryset.filter(owner=user)
    elif owner == "pool":
        queryset = queryset.filter(owner__isnull=True)
    elif owner:
        queryset = queryset.filter(owner_id=owner)
    for field in ("team", "region"):
        if filters.get(field):
            queryset = queryset.filter(**{f"{field}_id": filters[field]})
    for field in ("kind", "relationship_stage", "lifecycle_stage", "value_tier"):
        if filters.get(field):
            queryset = queryset.filter(**{field: filters[field]})
    if filters.get("is_key_account") is not None:
        queryset = queryset.filter(is_key_account=filters["is_key_account"])
    if filters.get("tag"):
        queryset = queryset.filter(tags__contains=[filters["tag"]])
    return queryset


def customer_rows(*, user, filters: dict | None = None) -> QuerySet:
    return customer_queryset(user=user, filters=filters, base=values_base(Customer, LIST_FIELDS))


def customer_get(*, user, pk: int) -> Customer:
    """One customer the user may see (pool included), or 404."""
    queryset = visible(
        Customer.objects.select_related("owner", "team", "region"), user, include_pool=True
    )
    return get_object_or_404(queryset, pk=pk)


def customer_timeline(*, customer: Customer, limit: int = 100) -> list[dict]:
    """Everything that happened to a customer, newest first: activities, key-field
    changes, pool moves, deals opened."""
    items: list[dict] = []
    for activity in (
        Activity.objects.filter(
            Q(customer=customer) | Q(deal__customer=customer) | Q(contact__customer=customer)
        )
        .select_related("assignee", "created_by")
        .order_by("-created_at")[:limit]
    ):
        items.append(
            {
                "at": activity.created_at,
                "type": "activity",
                "kind": activity.kind,
                "label": activity.get_kind_display(),
                "title": activity.subject,
                "by": activity.created_by,
                "object": activity,
            }
        )
    for change in FieldChange.objects.filter(
        record_type="customer", record_id=customer.pk
    ).select_related("changed_by")[:limit]:
        items.append(
            {
                "at": change.changed_at,
                "type": "change",
                "kind": change.field,
                "label": _field_label(change.field),
                "title": f"{change.old_value or '—'} → {change.new_value or '—'}",
                "by": change.changed_by,
                "object": change,
            }
        )
    for move in PoolMove.objects.filter(
        record_type="customer", record_id=customer.pk
    ).select_related("actor")[:limit]:
        items.append(
            {
                "at": move.at,
                "type": "pool",
                "kind": move.action,
                "label": _("public pool"),
                "title": move.get_action_display(),
                "by": move.actor,
                "object": move,
            }
        )
    for deal in customer.deals.select_related("stage", "owner")[:limit]:
        items.append(
            {
                "at": deal.created_at,
                "type": "deal",
                "kind": deal.stage.kind,
                "label": deal.stage.name,
                "title": deal.name,
                "by": deal.owner,
                "object": deal,
            }
        )
    return sorted(items, key=lambda item: item["at"], reverse=True)[:limit]


def _field_label(field: str) -> str:
    try:
        return str(Customer._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field
