"""Invoice pages: list, the invoice page (instalments, payments, record a payment,
cancel), the collections work list with ageing, and the manager's summary."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.forms import form_add_errors

from ..models import Invoice, Payment
from ..money import AGEING_BUCKETS
from ..selectors import collections as selectors
from ..selectors.sales import sales_get, sales_queryset
from ..services import invoices as services
from .sales_common import action_page, list_filters, list_page

InvoiceFilters = list_filters(statuses=Invoice.Status.choices, rows_id="invoice-rows")


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=gettext_lazy("Amount"), max_digits=18, decimal_places=3)
    received_on = forms.DateField(
        label=gettext_lazy("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=Payment.Method.choices)
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100, required=False)


@login_required
@page_permission(Perm.VIEW_RECORDS)
def invoice_list(request):
    return list_page(
        request,
        queryset_for=lambda values: sales_queryset(Invoice, user=request.user, filters=values),
        filters_class=InvoiceFilters,
        template="crm_core/sales/invoices.html",
        extra={},
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def invoice_detail(request, pk):
    invoice = sales_get(Invoice, user=request.user, pk=pk)
    form = PaymentForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and has_perm(request.user, Perm.RECORD_PAYMENTS):
        if form.is_valid():
            try:
                services.payment_record(invoice=invoice, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Payment recorded."))
                return redirect("crm:invoice", pk=pk)
    today = timezone.localdate()
    return render(
        request,
        "crm_core/sales/invoice.html",
        {
            "invoice": invoice,
            "instalments": [
                {
                    "instalment": instalment,
                    "owed": instalment.amount - instalment.paid_amount,
                    "overdue": instalment.due_date < today
                    and instalment.paid_amount < instalment.amount
                    and invoice.status != Invoice.Status.CANCELLED,
                }
                for instalment in invoice.instalments.all()
            ],
            "payments": invoice.payments.select_related("recorded_by"),
            "balance": invoice.total - invoice.paid_amount,
            "form": form,
            "can_pay": has_perm(request.user, Perm.RECORD_PAYMENTS)
            and invoice.status != Invoice.Status.CANCELLED,
            "can_cancel": has_perm(request.user, Perm.CHANGE_RECORDS)
            and invoice.status == Invoice.Status.ISSUED,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def invoice_cancel(request, pk):
    invoice = sales_get(Invoice, user=request.user, pk=pk)
    return action_page(
        request,
        run=lambda: services.invoice_cancel(invoice=invoice, actor=request.user),
        done=_("Invoice cancelled."),
        back=reverse("crm:invoice", args=[pk]),
    )


class CollectionFilterForm(forms.Form):
    owner = forms.ChoiceField(
        label=gettext_lazy("Collections owner"),
        required=False,
        choices=[("", gettext_lazy("All I can see")), ("me", gettext_lazy("Mine"))],
    )
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)


@login_required
@page_permission(Perm.VIEW_RECORDS)
def collections(request):
    filters = CollectionFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    today = timezone.localdate()
    return render(
        request,
        "crm_core/sales/collections.html",
        {
            "filters": filters,
            "rows": selectors.collections_list(user=request.user, today=today, filters=values),
            "ageing": selectors.ageing(user=request.user, today=today),
            "buckets": AGEING_BUCKETS,
        },
    )


@login_required
@page_permission(Perm.VIEW_SALES_REPORTS)
def sales_summary(request):
    by = "customer" if request.GET.get("by") == "customer" else "owner"
    return render(
        request,
        "crm_core/sales/summary.html",
        {
            "by": by,
            "rows": selectors.sales_summary(user=request.user, by=by),
            "columns": selectors.SUMMARY_COLUMNS,
        },
    )
