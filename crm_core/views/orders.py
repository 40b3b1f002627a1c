"""Order pages: list, the order page with its lines, deliveries (record a partial
delivery), invoices (issue one with a payment plan) and cancelling."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm

from ..models import Order
from ..records import can_see
from ..selectors.collections import balances
from ..selectors.sales import sales_get, sales_queryset
from ..services import invoices as invoice_services
from ..services import orders as services
from ..services.products import sales_settings_get
from .sales_common import action_page, list_filters, list_page

OrderFilters = list_filters(statuses=Order.Status.choices, rows_id="order-rows")


class InvoiceForm(forms.Form):
    """Issue an invoice: the whole remaining amount or one delivery, in equal
    instalments every so many days."""

    delivery = forms.ChoiceField(label=gettext_lazy("What to invoice"), required=False)
    issue_date = forms.DateField(
        label=gettext_lazy("Issue date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    instalments = forms.IntegerField(
        label=gettext_lazy("Instalments"), min_value=1, max_value=60, initial=1
    )
    first_due = forms.DateField(
        label=gettext_lazy("First due date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    every_days = forms.IntegerField(
        label=gettext_lazy("Days between instalments"), min_value=1, max_value=366, initial=30
    )
    collections_owner = forms.ModelChoiceField(
        label=gettext_lazy("Collections owner"),
        queryset=User.objects.filter(is_active=True),
        required=False,
    )

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivery"].choices = [("", _("All not yet invoiced"))] + [
            (str(delivery.pk), _("Delivery of %(date)s") % {"date": delivery.delivered_on})
            for delivery in order.deliveries.all()
        ]


def _invoice_form(order: Order, data=None) -> InvoiceForm:
    today = timezone.localdate()
    days = sales_settings_get().payment_terms_days
    return InvoiceForm(
        data,
        order=order,
        initial={
            "issue_date": today,
            "first_due": today + timedelta(days=days),
            "collections_owner": order.deal.collections_owner_id if order.deal_id else None,
        },
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def order_list(request):
    return list_page(
        request,
        queryset_for=lambda values: sales_queryset(Order, user=request.user, filters=values),
        filters_class=OrderFilters,
        template="crm_core/sales/orders.html",
        extra={},
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def order_detail(request, pk, invoice_form=None):
    order = sales_get(Order, user=request.user, pk=pk)
    remaining = order.total - invoice_services.order_invoiced(order)
    return render(
        request,
        "crm_core/sales/order.html",
        {
            "order": order,
            "lines": order.lines.select_related("product"),
            "deliveries": order.deliveries.prefetch_related("lines"),
            "invoices": order.invoices.all(),
            "balances": balances(order.invoices.all()),
            "remaining": remaining,
            "invoice_form": invoice_form or _invoice_form(order),
            "can_edit": has_perm(request.user, Perm.CHANGE_RECORDS)
            and can_see(request.user, order, include_pool=False),
        },
        status=400 if invoice_form is not None else 200,
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def order_deliver(request, pk):
    """The delivery form posts quantity_<line id> for each line."""
    order = sales_get(Order, user=request.user, pk=pk)
    quantities = {}
    for line in order.lines.all():
        raw = request.POST.get(f"quantity_{line.pk}", "").strip()
        if raw:
            try:
                quantities[line.pk] = Decimal(raw)
            except ArithmeticError:
                messages.error(request, _("Enter quantities as numbers."))
                return redirect("crm:order", pk=pk)
    return action_page(
        request,
        run=lambda: services.delivery_record(
            order=order,
            actor=request.user,
            quantities=quantities,
            delivered_on=_date(request.POST.get("delivered_on")),
            note=request.POST.get("note", ""),
        ),
        done=_("Delivery recorded."),
        back=reverse("crm:order", args=[pk]),
    )


def _date(value):
    field = forms.DateField(required=False)
    try:
        return field.clean(value)
    except ValidationError:
        return None


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def order_invoice(request, pk):
    order = sales_get(Order, user=request.user, pk=pk)
    form = _invoice_form(order, request.POST)
    if not form.is_valid():
        return order_detail(request, pk, invoice_form=form)
    data = form.cleaned_data
    delivery = order.deliveries.filter(pk=data["delivery"]).first() if data["delivery"] else None

    def run():
        plan = invoice_services.instalments_even(
            total=invoice_services.invoice_amount(order=order, delivery=delivery),
            currency=order.currency,
            count=data["instalments"],
            first_due=data["first_due"],
            every_days=data["every_days"],
        )
        return invoice_services.invoice_create(
            order=order,
            actor=request.user,
            delivery=delivery,
            instalments=plan,
            issue_date=data["issue_date"],
            collections_owner=data["collections_owner"],
        )

    return action_page(
        request,
        run=run,
        done=_("Invoice issued."),
        back=reverse("crm:order", args=[pk]),
        to=lambda invoice: reverse("crm:invoice", args=[invoice.pk]),
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def order_cancel(request, pk):
    order = sales_get(Order, user=request.user, pk=pk)
    return action_page(
        request,
        run=lambda: services.order_cancel(order=order, actor=request.user),
        done=_("Order cancelled."),
        back=reverse("crm:order", args=[pk]),
    )
