"""Reads of deals: lean lists, one deal, its stage history, the kanban board."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from accounts.models import User
from crm_platform.kernel.lean_rows import values_base

from ..models import Deal, DealStageChange, FieldChange, Pipeline, Stage
from ..records import visible

LIST_FIELDS = (
    "id",
    "name",
    "customer_id",
    "customer__name",
    "contact_id",
    "pipeline_id",
    "stage_id",
    "stage__name",
    "stage__kind",
    "stage__probability",
    "amount",
    "currency",
    "expected_close_date",
    "lost_reason",
    "owner_id",
    "owner__full_name",
    "team_id",
    "region_id",
    "finder_id",
    "delivery_owner_id",
    "collections_owner_id",
    "stage_entered_at",
    "closed_at",
    "created_at",
    "updated_at",
    "custom_fields",
)
ORDERINGS = {
    "-id",
    "id",
    "-updated_at",
    "updated_at",
    "amount",
    "-amount",
}
BOARD_CARDS_PER_STAGE = 100


def deal_queryset(
    *, user, filters: dict | None = None, base: QuerySet | None = None
) -> QuerySet[Deal]:
    """Deals `user` may see, narrowed by `filters`: q (name or customer name fragment),
    pipeline, stage, owner ("me" or an id), customer, closing_after, closing_before
    (expected close, inclusive), status (open, won, lost)."""
    filters = filters or {}
    queryset = visible(Deal.objects.all() if base is None else base, user)
    if q := (filters.get("q") or "").strip():
        q = unicodedata.normalize("NFKC", q)
        queryset = queryset.filter(Q(name__icontains=q) | Q(customer__name__icontains=q))
    for name in ("pipeline", "stage", "customer"):
        if filters.get(name):
            queryset = queryset.filter(**{f"{name}_id": filters[name]})
    owner = filters.get("owner")
    if owner == "me":
        queryset = queryset.filter(owner=user)
    elif owner:
        queryset = queryset.filter(owner_id=owner)
    if filters.get("closing_after"):
        queryset = queryset.filter(expected_close_date__gte=filters["closing_after"])
    if filters.get("closing_before"):
        queryset = queryset.filter(expected_close_date__lte=filters["closing_before"])
    if filters.get("status"):
        queryset = queryset.filter(stage__kind=filters["status"])
    return queryset


def deal_rows(*, user, filters: dict | None = None) -> QuerySet:
    return deal_queryset(user=user, filters=filters, base=values_base(Deal, LIST_FIELDS))


def deal_get(*, user, pk: int) -> Deal:
    """One deal the user may see, or 404."""
    queryset = visible(
        Deal.objects.select_related(
            "customer",
            "contact",
            "pipeline",
            "stage",
            "owner",
            "team",
            "region",
            "finder",
            "delivery_owner",
            "collections_owner",
        ),
        user,
    )
    return get_object_or_404(queryset, pk=pk)


def deal_stage_history(*, deal: Deal) -> list[DealStageChange]:
    """The deal's stage changes, oldest first, each with seconds_in_previous (the time the
    deal spent in from_stage: stage ageing)."""
    return list(
        DealStageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def deal_field_history(*, deal: Deal, limit: int = 50) -> list[FieldChange]:
    """Key-field changes, newest first; ids of stages and owners get `old_display` and
    `new_display` names (FieldChange keeps the ids)."""
    changes = list(
        FieldChange.objects.filter(record_type="deal", record_id=deal.pk).select_related(
            "changed_by"
        )[:limit]
    )
    ids = {
        name: {
            int(value)
            for change in changes
            if change.field == name
            for value in (change.old_value, change.new_value)
            if value.isdigit()
        }
        for name in ("stage", "owner")
    }
    names = {
        "stage": dict(Stage.objects.filter(pk__in=ids["stage"]).values_list("pk", "name")),
        "owner": {
            user.pk: user.get_full_name() for user in User.objects.filter(pk__in=ids["owner"])
        },
    }
    for change in changes:
        lookup = names.get(change.field, {})
        for side in ("old", "new"):
            value = getattr(change, f"{side}_value")
            shown = lookup.get(int(value)) if value.isdigit() and lookup else None
            setattr(change, f"{side}_display", shown or value)
    return changes


@dataclass
class Column:
    stage: Stage
    deals: list[Deal] = field(default_factory=list)
    count: int = 0
    # Sums per currency: amounts in different currencies are never added together.
    amounts: dict[str, Decimal] = field(default_factory=dict)


def deal_board(
    *, user, pipeline: Pipeline, filters: dict | None = None, narrow=None
) -> list[Column]:
    """The kanban board of `pipeline`: a column per stage with the visible deals (the most
    recently updated first, capped per column), their count and amount sum. `narrow`
    (queryset -> queryset) applies a page's field filter, standard or custom."""
    filters = {**(filters or {}), "pipeline": pipeline.pk}
    filters.pop("stage", None)
    deals = deal_queryset(user=user, filters=filters)
    if narrow is not None:
        deals = narrow(deals).order_by()  # the columns have their own order
    columns = {
        stage.pk: Column(stage=stage) for stage in pipeline.stages.order_by("position", "id")
    }
    totals = deals.values("stage_id", "currency").annotate(n=Count("id"), total=Sum("amount"))
    for row in totals:
        column = columns.get(row["stage_id"])
        if column is not None:
            column.count += row["n"]
            column.amounts[row["currency"]] = row["total"] or Decimal("0")
    for column in columns.values():
        column.amounts = dict(sorted(column.amounts.items()))
        if column.count:
            column.deals = list(
                deals.filter(stage=column.stage)
                .select_related("customer", "owner")
                .order_by("-updated_at", "-id")[:BOARD_CARDS_PER_STAGE]
            )
    return list(columns.values())
