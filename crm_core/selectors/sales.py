"""Reads of quotes, contracts, orders and invoices: the records a user may see (owner /
team / all, like every record), narrowed by list filters; one record or 404."""

from __future__ import annotations

import unicodedata

from django.db.models import Model, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.roles import Perm, has_perm

from ..models import Contract, Invoice, Order, Quote
from ..records import visible, visible_q

RELATED = {
    Quote: ("customer", "deal", "contact", "owner", "price_list"),
    Contract: ("customer", "deal", "quote", "owner"),
    Order: ("customer", "deal", "contract", "quote", "owner"),
    Invoice: ("customer", "deal", "order", "owner", "collections_owner"),
}


def sales_visible(queryset: QuerySet, user) -> QuerySet:
    """Documents `user` may see: like every record (own / team / all), and invoices also
    by their collections owner, who chases the money."""
    scope = visible_q(user)
    if queryset.model is Invoice and scope and has_perm(user, Perm.VIEW_RECORDS):
        # (An empty Q means "all": OR-ing it with anything would narrow it instead.)
        return queryset.filter(scope | Q(collections_owner=user))
    return visible(queryset, user)


def sales_queryset(model: type[Model], *, user, filters: dict | None = None) -> QuerySet:
    """Visible documents of `model`; filters: q (number or customer name), status,
    customer, deal, owner ("me" or an id); quotes: current (latest versions only)."""
    filters = filters or {}
    queryset = sales_visible(model.objects.select_related(*RELATED[model]), user)
    if q := (filters.get("q") or "").strip():
        q = unicodedata.normalize("NFKC", q)
        queryset = queryset.filter(Q(number__icontains=q) | Q(customer__name__icontains=q))
    for name in ("status", "customer", "deal"):
        if filters.get(name):
            key = name if name == "status" else f"{name}_id"
            queryset = queryset.filter(**{key: filters[name]})
    owner = filters.get("owner")
    if owner == "me":
        queryset = queryset.filter(owner=user)
    elif owner:
        queryset = queryset.filter(owner_id=owner)
    if model is Quote and filters.get("current", True):
        queryset = queryset.filter(is_current=True)
    return queryset.order_by("-id")


def sales_get(model: type[Model], *, user, pk: int):
    queryset = sales_visible(model.objects.select_related(*RELATED[model]), user)
    return get_object_or_404(queryset, pk=pk)


def quote_versions(quote: Quote) -> list[Quote]:
    return list(Quote.objects.filter(number=quote.number).order_by("version"))
