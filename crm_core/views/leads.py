"""Lead pages: list with htmx search, create/edit, detail with history, conversion."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team
from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.forms import form_add_errors
from customization.forms import (
    conversion_fields_add,
    conversion_service_data,
    custom_fields_add,
    custom_service_data,
)
from customization.pages import list_page_query

from ..models import Customer, Lead, Pipeline, Region, Stage
from ..records import can_see, visible
from ..selectors import leads as selectors
from ..services import leads as services
from .common import (
    live_search_field,
    owner_filter_field,
    record_create_page,
    record_delete_page,
    record_edit_page,
    user_choices,
)


class LeadFilterForm(forms.Form):
    q = live_search_field(
        rows_id="lead-rows", placeholder=gettext_lazy("Name, company, e-mail or phone")
    )
    owner = owner_filter_field()
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", "—"), *Lead.Status.choices]
    )
    purchase_window = forms.ChoiceField(
        label=gettext_lazy("Purchase window"),
        required=False,
        choices=[("", "—"), *Lead.PurchaseWindow.choices],
    )


class LeadForm(forms.ModelForm):
    """Parses the page's input; lead services validate and save it."""

    class Meta:
        model = Lead
        fields = [
            "name",
            "company_name",
            "job_title",
            "email",
            "phone",
            "source",
            "status",
            "has_money",
            "has_authority",
            "has_need",
            "purchase_window",
            "owner",
            "team",
            "region",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Conversion has its own action; it is not a status one picks.
        self.fields["status"].choices = [
            c for c in Lead.Status.choices if c[0] != Lead.Status.CONVERTED
        ]
        user_choices(self, "owner")
        self.fields["team"].queryset = Team.objects.all()
        self.fields["region"].queryset = Region.objects.all()
        if not has_perm(user, Perm.REASSIGN_RECORDS):
            for field in ("owner", "team"):
                self.fields[field].disabled = True
        custom_fields_add(self, entity="lead", user=user, record=self.instance)

    def service_data(self, *, creating: bool) -> dict:
        data = {f: v for f, v in self.cleaned_data.items() if not self.fields[f].disabled}
        if creating and data.get("owner") is None:
            data.pop("owner", None)  # the assignment rules (or the creator) decide
        return custom_service_data(self, data)


class ConvertForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Existing customer"),
        queryset=Customer.objects.none(),
        required=False,
        widget=forms.NumberInput,
        help_text=gettext_lazy("Leave empty to create a new customer from the lead."),
    )
    create_deal = forms.BooleanField(label=gettext_lazy("Create a deal"), required=False)
    deal_name = forms.CharField(label=gettext_lazy("Deal name"), required=False, max_length=200)
    pipeline = forms.ModelChoiceField(
        label=gettext_lazy("Pipeline"),
        queryset=Pipeline.objects.all(),
        required=False,
        empty_label=gettext_lazy("Default pipeline"),
    )
    stage = forms.ModelChoiceField(
        label=gettext_lazy("Stage"),
        queryset=Stage.objects.filter(kind=Stage.Kind.OPEN).select_related("pipeline"),
        required=False,
        empty_label=gettext_lazy("First open stage"),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), required=False, max_digits=18, decimal_places=2, min_value=0
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)
    expected_close_date = forms.DateField(
        label=gettext_lazy("Expected close"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, user, lead, **kwargs):
        super().__init__(*args, **kwargs)
        conversion_fields_add(self, lead=lead, user=user)
        self.fields["customer"].queryset = visible(Customer.objects.all(), user)
        self.fields["customer"].error_messages["invalid_choice"] = _(
            "Choose a customer you can see."
        )
        self.fields["stage"].label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"


@login_required
@page_permission(Perm.VIEW_RECORDS)
def lead_list(request):
    filters = LeadFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.lead_queryset(user=request.user, filters=values).select_related("owner")
    rows, field_filter = list_page_query(request, rows)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm_core/leads/list.html",
        {
            "filters": filters,
            "page": page,
            "field_filter": field_filter,
            "can_create": has_perm(request.user, Perm.CHANGE_RECORDS),
        },
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def lead_create(request):
    form = LeadForm(request.POST or None, user=request.user)
    return record_create_page(
        request,
        form=form,
        template="crm_core/leads/form.html",
        create=lambda: services.lead_create(
            actor=request.user, data=form.service_data(creating=True)
        ),
        detail_route="crm:lead",
        created_message=_("Lead created."),
        duplicates_of="lead",
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def lead_edit(request, pk):
    lead = selectors.lead_get(user=request.user, pk=pk)
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    return record_edit_page(
        request,
        record=lead,
        form=form,
        template="crm_core/leads/form.html",
        update=lambda: services.lead_update(
            lead=Lead.objects.get(pk=pk), actor=request.user, data=form.service_data(creating=False)
        ),
        detail_route="crm:lead",
        context={"lead": lead},
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def lead_detail(request, pk):
    lead = selectors.lead_get(user=request.user, pk=pk)
    mine = can_see(request.user, lead, include_pool=False) and lead.owner_id is not None
    return render(
        request,
        "crm_core/leads/detail.html",
        {
            "lead": lead,
            "history": selectors.lead_history(lead=lead),
            "can_edit": has_perm(request.user, Perm.CHANGE_RECORDS)
            and mine
            and lead.status != Lead.Status.CONVERTED,
            "can_claim": lead.owner_id is None and has_perm(request.user, Perm.USE_POOL),
            "can_release": mine
            and has_perm(request.user, Perm.USE_POOL)
            and lead.status != Lead.Status.CONVERTED,
        },
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def lead_convert(request, pk):
    lead = selectors.lead_get(user=request.user, pk=pk)
    if not can_see(request.user, lead, include_pool=False):
        raise PermissionDenied
    if lead.status == Lead.Status.CONVERTED:
        messages.error(request, _("This lead has already been converted."))
        return redirect("crm:lead", pk=pk)
    form = ConvertForm(
        request.POST or None,
        user=request.user,
        lead=lead,
        initial={"create_deal": True, "deal_name": lead.company_name or lead.name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_convert(
                lead=Lead.objects.get(pk=pk),
                actor=request.user,
                **conversion_service_data(dict(form.cleaned_data)),
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Lead converted."))
            return redirect("crm:lead", pk=pk)
    return render(request, "crm_core/leads/convert.html", {"form": form, "lead": lead})


@login_required
@page_permission(Perm.DELETE_RECORDS)
def lead_delete(request, pk):
    lead = selectors.lead_get(user=request.user, pk=pk)
    return record_delete_page(
        request,
        record=lead,
        list_route="crm:leads",
        detail_route="crm:lead",
        delete=lambda: services.lead_delete(lead=lead, actor=request.user),
        deleted_message=_("Lead deleted."),
    )
