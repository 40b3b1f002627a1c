"""Reads of the webhooks app: endpoints and the delivery log."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import Attempt, Delivery, Endpoint


def endpoint_list() -> QuerySet[Endpoint]:
    return Endpoint.objects.select_related("created_by").order_by("id")


def endpoint_get(*, pk: int) -> Endpoint:
    return get_object_or_404(Endpoint, pk=pk)


def delivery_list(
    *, endpoint: int | None = None, event_type: str = "", status: str = ""
) -> QuerySet[Delivery]:
    """The delivery log, newest first, filtered by endpoint, event type and status."""
    rows = Delivery.objects.select_related("endpoint").order_by("-id")
    if endpoint:
        rows = rows.filter(endpoint_id=endpoint)
    if event_type:
        rows = rows.filter(event_type=event_type)
    if status:
        rows = rows.filter(status=status)
    return rows


def delivery_get(*, pk: int) -> Delivery:
    return get_object_or_404(Delivery.objects.select_related("endpoint"), pk=pk)


def delivery_attempts(*, delivery: Delivery) -> QuerySet[Attempt]:
    return delivery.attempt_rows.order_by("number", "id")
