"""Contract pages: list, new (from scratch), edit, the contract page with its review,
termination and order."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm

from ..models import Contract, Customer, Deal, Invoice
from ..records import can_see, visible
from ..selectors.collections import balances
from ..selectors.sales import sales_get, sales_queryset
from ..services import contracts as services
from ..services import orders as order_services
from .sales_common import action_page, form_page, list_filters, list_page

ContractFilters = list_filters(statuses=Contract.Status.choices, rows_id="contract-rows")


class ContractForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = ["title", "customer", "deal", "currency", "value", "start_date", "end_date",
                  "renewal_date", "terms"]  # fmt: skip
        widgets = {
            name: forms.DateInput(attrs={"type": "date"})
            for name in ("start_date", "end_date", "renewal_date")
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = visible(Customer.objects.all(), user).order_by("-id")
        self.fields["deal"].queryset = visible(Deal.objects.all(), user).order_by("-id")


@login_required
@page_permission(Perm.VIEW_RECORDS)
def contract_list(request):
    return list_page(
        request,
        queryset_for=lambda values: sales_queryset(Contract, user=request.user, filters=values),
        filters_class=ContractFilters,
        template="crm_core/sales/contracts.html",
        extra={"can_create": has_perm(request.user, Perm.CHANGE_RECORDS)},
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def contract_edit(request, pk=None):
    contract = sales_get(Contract, user=request.user, pk=pk) if pk else None
    initial = {}
    if contract is None and (customer_id := request.GET.get("customer", "")).isdigit():
        initial["customer"] = int(customer_id)

    def save(data):
        if contract is None:
            return services.contract_create(actor=request.user, data=data)
        return services.contract_update(contract=contract, actor=request.user, data=data)

    return form_page(
        request,
        form=ContractForm(
            request.POST or None, instance=contract, initial=initial, user=request.user
        ),
        save=save,
        title=str(contract) if contract else _("New contract"),
        cancel=reverse("crm:contract", args=[pk]) if pk else reverse("crm:contracts"),
        done=lambda saved: reverse("crm:contract", args=[saved.pk]),
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def contract_detail(request, pk):
    contract = sales_get(Contract, user=request.user, pk=pk)
    return render(
        request,
        "crm_core/sales/contract.html",
        {
            "contract": contract,
            "can_edit": has_perm(request.user, Perm.CHANGE_RECORDS)
            and can_see(request.user, contract, include_pool=False),
            "orders": contract.orders.all(),
            "balances": balances(Invoice.objects.filter(order__contract=contract)),
        },
    )


ACTIONS = {
    "submit": (services.contract_submit_review, gettext_lazy("Sent for review.")),
    "terminate": (services.contract_terminate, gettext_lazy("Contract terminated.")),
}


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def contract_action(request, pk, action):
    contract = sales_get(Contract, user=request.user, pk=pk)
    back = reverse("crm:contract", args=[pk])
    if action == "order":
        return action_page(
            request,
            run=lambda: order_services.order_from_contract(contract=contract, actor=request.user),
            done=_("Order created."),
            back=back,
            to=lambda order: reverse("crm:order", args=[order.pk]),
        )
    if action not in ACTIONS:
        raise Http404
    run, done = ACTIONS[action]
    return action_page(
        request, run=lambda: run(contract=contract, actor=request.user), done=str(done), back=back
    )
