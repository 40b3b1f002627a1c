"""Reads of contacts: lean lists and one contact."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from crm_platform.kernel.lean_rows import values_base

from ..models import Contact
from ..records import visible
from .search import search_filter

LIST_FIELDS = (
    "id",
    "name",
    "customer_id",
    "customer__name",
    "job_title",
    "decision_role",
    "emails",
    "phones",
    "birthday",
    "preferred_channel",
    "owner_id",
    "owner__full_name",
    "team_id",
    "created_at",
    "updated_at",
    "custom_fields",
)
ORDERINGS = {"-id", "id", "name", "-name", "-updated_at", "updated_at", "-created_at", "created_at"}


def contact_queryset(
    *, user, filters: dict | None = None, base: QuerySet | None = None
) -> QuerySet[Contact]:
    """Contacts `user` may see, narrowed by `filters`: q (name, e-mail or phone
    fragment), customer (id), owner ("me" or an id), decision_role."""
    filters = filters or {}
    queryset = visible(Contact.objects.all() if base is None else base, user)
    queryset = search_filter(queryset, filters.get("q") or "", user=user)
    if filters.get("customer"):
        queryset = queryset.filter(customer_id=filters["customer"])
    owner = filters.get("owner")
    if owner == "me":
        queryset = queryset.filter(owner=user)
    elif owner:
        queryset = queryset.filter(owner_id=owner)
    if filters.get("decision_role"):
        queryset = queryset.filter(decision_role=filters["decision_role"])
    return queryset


def contact_rows(*, user, filters: dict | None = None) -> QuerySet:
    return contact_queryset(user=user, filters=filters, base=values_base(Contact, LIST_FIELDS))


def contact_get(*, user, pk: int) -> Contact:
    """One contact the user may see, or 404."""
    queryset = visible(Contact.objects.select_related("owner", "team", "customer"), user)
    return get_object_or_404(queryset, pk=pk)
