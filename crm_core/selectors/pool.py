"""Reads of the public pool: pooled leads and customers, a rep's claim allowance, the
pool settings, assignment rules and regions."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from ..models import AssignmentRule, Customer, Lead, Region
from ..records import visible
from ..services.pool import claims_today, held_count, pool_settings_get

COMMON_FIELDS = (
    "id",
    "name",
    "source",
    "region_id",
    "region__name",
    "previous_owner_id",
    "pool_entered_at",
    "reclaim_blocked_until",
    "created_at",
)
LEAD_FIELDS = (*COMMON_FIELDS, "company_name", "status", "purchase_window")
CUSTOMER_FIELDS = (*COMMON_FIELDS, "kind", "industry", "value_tier", "relationship_stage")
ORDERINGS = {"-id", "id", "name", "-name"}
MODELS = {"lead": (Lead, LEAD_FIELDS), "customer": (Customer, CUSTOMER_FIELDS)}


def pool_queryset(*, user, record_type: str, filters: dict | None = None) -> QuerySet:
    """Leads or customers in the public pool, narrowed by q (name, e-mail or phone
    fragment) and region."""
    filters = filters or {}
    model = MODELS[record_type][0]
    queryset = visible(model.objects.filter(owner__isnull=True), user, include_pool=True)
    if record_type == "lead":
        queryset = queryset.exclude(status=Lead.Status.CONVERTED)
    if q := (filters.get("q") or "").strip():
        queryset = queryset.filter(search_text__contains=unicodedata.normalize("NFKC", q).lower())
    if filters.get("region"):
        queryset = queryset.filter(region_id=filters["region"])
    return queryset


def pool_rows(*, user, record_type: str, filters: dict | None = None) -> QuerySet:
    return pool_queryset(user=user, record_type=record_type, filters=filters).values(
        *MODELS[record_type][1]
    )


def pool_record_get(*, user, record_type: str, pk: int):
    """A lead or customer the user may see, pool included, or 404."""
    model = MODELS[record_type][0]
    return get_object_or_404(visible(model.objects.all(), user, include_pool=True), pk=pk)


def pool_allowance(*, user, now: datetime | None = None) -> dict:
    """What the user may still claim today, for the pool page."""
    settings = pool_settings_get()
    used = claims_today(user=user, now=now or timezone.now())
    return {
        "settings": settings,
        "claimed_today": used,
        "claims_left": max(settings.daily_claim_limit - used, 0),
        "held_leads": held_count(user=user, record_type="lead"),
        "held_customers": held_count(user=user, record_type="customer"),
    }


def assignment_rule_list() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.select_related("team", "region", "last_assigned")


def assignment_rule_get(*, pk: int) -> AssignmentRule:
    return get_object_or_404(assignment_rule_list(), pk=pk)


def region_list() -> QuerySet[Region]:
    return Region.objects.all()


def region_get(*, pk: int) -> Region:
    return get_object_or_404(Region, pk=pk)
