"""Writes on the product catalogue, price lists and the company's sales settings; the
price a quote line gets from a price list."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm

from ..models import PriceList, PriceListItem, Product, SalesSettings
from ..records import record_apply, record_event, validate_model

PRODUCT_FIELDS = ("code", "name", "unit", "category", "description", "is_active")
PRICE_LIST_FIELDS = ("name", "currency", "valid_from", "valid_until", "customer", "is_active")
SETTINGS_FIELDS = (
    "default_tax_rate",
    "quote_validity_days",
    "payment_terms_days",
    "remind_days_before_due",
    "remind_days_before_contract_end",
)
CURRENCY = re.compile(r"^[A-Z]{3}$")


def currency_errors(currency: str) -> dict[str, list[str]]:
    if CURRENCY.match(currency or ""):
        return {}
    return {"currency": [_("Enter a three-letter ISO 4217 currency code in capitals, e.g. CNY.")]}


def _ensure(actor: User, perm: str = Perm.MANAGE_PRODUCTS) -> None:
    if not has_perm(actor, perm):
        raise PermissionDenied


@transaction.atomic
def product_save(*, actor: User, data: dict, product: Product | None = None) -> Product:
    _ensure(actor)
    product = product or Product()
    created = product.pk is None
    record_apply(product, data, editable=PRODUCT_FIELDS)
    product.code = (product.code or "").strip()
    product.name = (product.name or "").strip()
    errors = {}
    if Product.objects.filter(code__iexact=product.code).exclude(pk=product.pk).exists():
        errors["code"] = [_("Another product has this code.")]
    validate_model(product, errors, exclude=["code"] if errors else [])
    product.save()
    record_event(
        record_type="product",
        action="created" if created else "updated",
        record=product,
        payload={"code": product.code, "name": product.name, "is_active": product.is_active},
    )
    return product


@transaction.atomic
def price_list_save(*, actor: User, data: dict, price_list: PriceList | None = None) -> PriceList:
    _ensure(actor)
    price_list = price_list or PriceList()
    created = price_list.pk is None
    record_apply(price_list, data, editable=PRICE_LIST_FIELDS)
    errors = currency_errors(price_list.currency)
    if (
        price_list.valid_from
        and price_list.valid_until
        and price_list.valid_until < price_list.valid_from
    ):
        errors["valid_until"] = [_("The end is before the start.")]
    validate_model(price_list, errors)
    price_list.save()
    record_event(
        record_type="price_list",
        action="created" if created else "updated",
        record=price_list,
        payload={"name": price_list.name, "currency": price_list.currency},
    )
    return price_list


@transaction.atomic
def price_list_item_set(
    *, actor: User, price_list: PriceList, product: Product, unit_price: Decimal
) -> PriceListItem:
    """Set (create or change) a product's price in a price list."""
    _ensure(actor)
    if unit_price is None or unit_price < 0:
        raise ValidationError({"unit_price": [_("Enter a price of zero or more.")]})
    item, _created = PriceListItem.objects.update_or_create(
        price_list=price_list, product=product, defaults={"unit_price": unit_price}
    )
    return item


@transaction.atomic
def price_list_item_remove(*, actor: User, price_list: PriceList, product: Product) -> None:
    """Take a product's price out of a price list (quotes already made keep their prices)."""
    _ensure(actor)
    deleted, _rows = PriceListItem.objects.filter(price_list=price_list, product=product).delete()
    if not deleted:
        raise ValidationError({"product_id": [_("This price list has no price for it.")]})


def sales_settings_get() -> SalesSettings:
    settings = SalesSettings.objects.order_by("pk").first()
    return settings or SalesSettings.objects.create()


@transaction.atomic
def sales_settings_update(*, actor: User, data: dict) -> SalesSettings:
    _ensure(actor, Perm.MANAGE_SALES_SETTINGS)
    settings = SalesSettings.objects.select_for_update().get(pk=sales_settings_get().pk)
    record_apply(settings, data, editable=SETTINGS_FIELDS)
    validate_model(settings, {})
    settings.save()
    return settings


def price_list_for(*, customer_id: int | None, currency: str, on: date) -> PriceList | None:
    """The price list a quote uses by default: the customer's own valid list in the
    currency, else a general one (the most recent first)."""
    valid = PriceList.objects.filter(is_active=True, currency=currency).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_until__isnull=True) | Q(valid_until__gte=on),
    )
    if customer_id:
        own = valid.filter(customer_id=customer_id).order_by("-id").first()
        if own:
            return own
    return valid.filter(customer__isnull=True).order_by("-id").first()
