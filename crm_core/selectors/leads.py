"""Reads of leads: lean lists, one lead, its key-field history and pool moves."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from crm_platform.kernel.lean_rows import values_base

from ..models import Activity, FieldChange, Lead, PoolMove
from ..records import visible
from .search import search_filter

LIST_FIELDS = (
    "id",
    "name",
    "company_name",
    "job_title",
    "email",
    "phone",
    "source",
    "status",
    "has_money",
    "has_authority",
    "has_need",
    "purchase_window",
    "owner_id",
    "owner__full_name",
    "team_id",
    "region_id",
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


def lead_queryset(
    *, user, filters: dict | None = None, base: QuerySet | None = None
) -> QuerySet[Lead]:
    """Leads `user` may see (with the public pool), narrowed by `filters`: q (name,
    company, e-mail or phone fragment), owner ("me", "pool" or an id), status, source,
    purchase_window, team, region, qualified (all three MAN flags)."""
    filters = filters or {}
    queryset = visible(Lead.objects.all() if base is None else base, user, include_pool=True)
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
    for field in ("status", "source", "purchase_window"):
        if filters.get(field):
            queryset = queryset.filter(**{field: filters[field]})
    if filters.get("qualified") is not None:
        man = {"has_money": True, "has_authority": True, "has_need": True}
        queryset = queryset.filter(**man) if filters["qualified"] else queryset.exclude(**man)
    return queryset


def lead_rows(*, user, filters: dict | None = None) -> QuerySet:
    return lead_queryset(user=user, filters=filters, base=values_base(Lead, LIST_FIELDS))


def lead_get(*, user, pk: int) -> Lead:
    """One lead the user may see (pool included), or 404."""
    queryset = visible(
        Lead.objects.select_related(
            "owner", "team", "region", "converted_customer", "converted_contact", "converted_deal"
        ),
        user,
        include_pool=True,
    )
    return get_object_or_404(queryset, pk=pk)


def lead_history(*, lead: Lead, limit: int = 50) -> list[dict]:
    """The lead's timeline, newest first: activities, key-field changes, pool moves."""
    items = [
        {
            "at": activity.created_at,
            "type": "activity",
            "kind": activity.get_kind_display(),
            "title": activity.subject,
            "by": activity.created_by,
        }
        for activity in Activity.objects.filter(lead=lead)
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    ]
    items += [
        {
            "at": change.changed_at,
            "type": "change",
            "kind": change.field,
            "title": f"{change.old_value or '—'} → {change.new_value or '—'}",
            "by": change.changed_by,
        }
        for change in FieldChange.objects.filter(
            record_type="lead", record_id=lead.pk
        ).select_related("changed_by")[:limit]
    ]
    items += [
        {
            "at": move.at,
            "type": "pool",
            "kind": move.action,
            "title": move.get_action_display(),
            "by": move.actor,
        }
        for move in PoolMove.objects.filter(record_type="lead", record_id=lead.pk).select_related(
            "actor"
        )[:limit]
    ]
    return sorted(items, key=lambda item: item["at"], reverse=True)[:limit]
