"""Quote pages: list, create from a deal (lines with products from the price list),
edit a draft, the quote page with its actions (submit, send, customer's answer, revise,
contract, order), the PDF."""

import re

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm

from ..models import Contact, Customer, Deal, Product, Quote
from ..records import can_see, visible
from ..selectors.products import price_lists_visible
from ..selectors.sales import quote_versions, sales_get, sales_queryset
from ..services import contracts as contract_services
from ..services import orders as order_services
from ..services import quotes as services
from ..services.quote_pdf import quote_pdf, quote_pdf_filename
from .sales_common import action_page, form_page, list_filters, list_page

QuoteFilters = list_filters(statuses=Quote.Status.choices, rows_id="quote-rows")
LINE_ROWS = 8
_LINE_KEY = re.compile(r"^lines\.(\d+)\.(\w+)$")


class QuoteForm(forms.ModelForm):
    class Meta:
        model = Quote
        fields = ["deal", "customer", "contact", "price_list", "currency", "language",
                  "valid_until", "total_discount_percent", "terms"]  # fmt: skip
        widgets = {"valid_until": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deal"].queryset = visible(Deal.objects.all(), user).order_by("-id")
        self.fields["customer"].queryset = visible(Customer.objects.all(), user).order_by("-id")
        self.fields["customer"].required = False
        self.fields["contact"].queryset = visible(Contact.objects.all(), user).order_by("-id")
        self.fields["price_list"].queryset = price_lists_visible(user).filter(is_active=True)
        self.fields["currency"].required = False
        self.fields["price_list"].help_text = gettext_lazy(
            "Empty: the customer's own price list in this currency, else a general one."
        )


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        queryset=Product.objects.filter(is_active=True),
        required=False,
    )
    description = forms.CharField(label=gettext_lazy("Description"), required=False)
    quantity = forms.DecimalField(
        label=gettext_lazy("Quantity"), required=False, max_digits=14, decimal_places=3
    )
    unit_price = forms.DecimalField(
        label=gettext_lazy("Unit price"), required=False, max_digits=18, decimal_places=3
    )
    discount_percent = forms.DecimalField(
        label=gettext_lazy("Discount (%)"), required=False, max_digits=7, decimal_places=4
    )
    tax_rate = forms.DecimalField(
        label=gettext_lazy("Tax rate (%)"), required=False, max_digits=7, decimal_places=4
    )

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("product") or data.get("description") or data.get("quantity"))


LineFormSet = forms.formset_factory(LineForm, extra=0, max_num=200)


def _line_formset(request, quote: Quote | None):
    if request.method == "POST":
        return LineFormSet(request.POST, prefix="lines")
    initial = []
    if quote is not None:
        initial = [
            {
                "product": line.product_id,
                "description": line.description,
                "quantity": line.quantity.normalize(),
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent.normalize(),
                "tax_rate": line.tax_rate.normalize(),
            }
            for line in quote.lines.all()
        ]
    initial += [{}] * max(LINE_ROWS - len(initial), 2)
    return LineFormSet(initial=initial, prefix="lines")


def _quote_form_page(request, *, quote: Quote | None, initial: dict):
    form = QuoteForm(request.POST or None, instance=quote, initial=initial, user=request.user)
    lines = _line_formset(request, quote)
    lines_valid = request.method != "POST" or lines.is_valid()

    def save(data: dict):
        if not lines_valid:
            raise ValidationError(_("Correct the lines."))
        kept = [line for line in lines if line.cleaned_data and not line.is_blank()]
        line_data = [
            {key: value for key, value in line.cleaned_data.items() if value not in (None, "")}
            for line in kept
        ]
        data = {**data, "lines": line_data}
        try:
            if quote is None:
                return services.quote_create(actor=request.user, data=data)
            return services.quote_update(quote=quote, actor=request.user, data=data)
        except ValidationError as exc:
            raise ValidationError(_lines_errors_to_forms(exc, kept)) from None

    return form_page(
        request,
        form=form,
        save=save,
        title=str(quote) if quote else _("New quote"),
        cancel=reverse("crm:quote", args=[quote.pk]) if quote else reverse("crm:quotes"),
        done=lambda saved: reverse("crm:quote", args=[saved.pk]),
        template="crm_core/sales/quote_form.html",
        context={"lines": lines},
    )


def _lines_errors_to_forms(exc: ValidationError, line_forms: list) -> dict | str:
    """Put the service's "lines.<n>.<field>" errors on the line forms; the rest stays."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    rest = {}
    for key, messages in exc.message_dict.items():
        match = _LINE_KEY.match(key)
        if match and int(match[1]) < len(line_forms):
            line = line_forms[int(match[1])]
            for message in messages:
                line.add_error(match[2] if match[2] in line.fields else None, message)
        else:
            rest[key] = messages
    return rest or _("Correct the lines.")


@login_required
@page_permission(Perm.CHANGE_RECORDS)
@require_POST
def quote_preview(request):
    """htmx: the totals of the quote form as it stands, nothing saved."""
    form = QuoteForm(request.POST, user=request.user)
    lines = LineFormSet(request.POST, prefix="lines")
    context = {"errors": []}
    if form.is_valid() and lines.is_valid():
        line_data = [
            {key: value for key, value in line.cleaned_data.items() if value not in (None, "")}
            for line in lines
            if line.cleaned_data and not line.is_blank()
        ]
        try:
            context["quote"] = services.quote_preview(
                actor=request.user, data={**form.cleaned_data, "lines": line_data}
            )
        except ValidationError as exc:
            context["errors"] = exc.messages
    else:
        context["errors"] = [_("Correct the form to see the totals.")]
    return render(request, "crm_core/sales/_quote_totals.html", context)


@login_required
@page_permission(Perm.VIEW_RECORDS)
def quote_list(request):
    return list_page(
        request,
        queryset_for=lambda values: sales_queryset(Quote, user=request.user, filters=values),
        filters_class=QuoteFilters,
        template="crm_core/sales/quotes.html",
        extra={"can_create": has_perm(request.user, Perm.CHANGE_RECORDS)},
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def quote_create(request):
    initial = {}
    if (deal_id := request.GET.get("deal", "")).isdigit():
        deal = get_object_or_404(visible(Deal.objects.all(), request.user), pk=int(deal_id))
        initial = {
            "deal": deal.pk,
            "customer": deal.customer_id,
            "contact": deal.contact_id,
            "currency": deal.currency,
            "language": services.quote_language_for(deal.customer) if deal.customer_id else "en",
        }
    return _quote_form_page(request, quote=None, initial=initial)


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def quote_edit(request, pk):
    quote = sales_get(Quote, user=request.user, pk=pk)
    return _quote_form_page(request, quote=quote, initial={})


@login_required
@page_permission(Perm.VIEW_RECORDS)
def quote_detail(request, pk):
    quote = sales_get(Quote, user=request.user, pk=pk)
    can_edit = has_perm(request.user, Perm.CHANGE_RECORDS) and can_see(
        request.user, quote, include_pool=False
    )
    return render(
        request,
        "crm_core/sales/quote.html",
        {
            "quote": quote,
            "lines": quote.lines.select_related("product"),
            "versions": quote_versions(quote),
            "can_edit": can_edit,
            "needs_approval": services.quote_needs_approval(quote),
            "contracts": quote.contracts.all(),
            "orders": quote.orders.all(),
        },
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def quote_pdf_page(request, pk):
    quote = sales_get(Quote, user=request.user, pk=pk)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote_pdf_filename(quote)}"'
    return response


ACTIONS = {
    "submit": (
        lambda quote, request: services.quote_submit(quote=quote, actor=request.user),
        gettext_lazy("Quote submitted."),
    ),
    "send": (
        lambda quote, request: services.quote_send(
            quote=quote, actor=request.user, to=request.POST.get("to", "")
        ),
        gettext_lazy("Quote sent."),
    ),
    "accept": (
        lambda quote, request: services.quote_answer(
            quote=quote, actor=request.user, accepted=True
        ),
        gettext_lazy("Quote accepted."),
    ),
    "reject": (
        lambda quote, request: services.quote_answer(
            quote=quote, actor=request.user, accepted=False
        ),
        gettext_lazy("Quote marked rejected."),
    ),
    "revise": (
        lambda quote, request: services.quote_revise(quote=quote, actor=request.user),
        gettext_lazy("New version created."),
    ),
    "contract": (
        lambda quote, request: contract_services.contract_from_quote(
            quote=quote, actor=request.user
        ),
        gettext_lazy("Contract created."),
    ),
    "order": (
        lambda quote, request: order_services.order_from_quote(quote=quote, actor=request.user),
        gettext_lazy("Order created."),
    ),
}
TARGETS = {"revise": "crm:quote", "contract": "crm:contract", "order": "crm:order"}


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def quote_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    quote = sales_get(Quote, user=request.user, pk=pk)
    run, done = ACTIONS[action]
    target = TARGETS.get(action)
    return action_page(
        request,
        run=lambda: run(quote, request),
        done=str(done),
        back=reverse("crm:quote", args=[pk]),
        to=(lambda result: reverse(target, args=[result.pk])) if target else None,
    )
