"""Reads of the catalogue: the price lists a user may see (general ones, and those of
customers they see)."""

from django.db.models import QuerySet

from ..models import Customer, PriceList
from ..records import visible


def price_lists_visible(user) -> QuerySet[PriceList]:
    customers = visible(Customer.objects.all(), user, include_pool=True)
    return PriceList.objects.filter(customer__isnull=True) | PriceList.objects.filter(
        customer__in=customers
    )
