"""Customer pages: list with search and filters, create/edit, the 360-degree page."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team
from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm
from customization.forms import custom_fields_add, custom_service_data
from customization.pages import list_page_query

from ..models import Activity, Customer, Region
from ..records import can_see
from ..selectors import customers as selectors
from ..services import customers as services
from .activities import QuickActivityForm
from .common import (
    live_search_field,
    owner_filter_field,
    record_create_page,
    record_delete_page,
    record_edit_page,
    user_choices,
)


class CustomerFilterForm(forms.Form):
    q = live_search_field(
        rows_id="customer-rows", placeholder=gettext_lazy("Name, e-mail or phone")
    )
    owner = owner_filter_field()
    relationship_stage = forms.ChoiceField(
        label=gettext_lazy("Relationship stage"),
        required=False,
        choices=[("", "—"), *Customer.RelationshipStage.choices],
    )
    value_tier = forms.ChoiceField(
        label=gettext_lazy("Value tier"),
        required=False,
        choices=[("", "—"), *Customer.ValueTier.choices],
    )


class CustomerForm(forms.ModelForm):
    """Parses the page's input; customer services validate and save it."""

    tags = forms.CharField(
        label=gettext_lazy("Tags"), required=False, help_text=gettext_lazy("Separate with commas.")
    )
    website = forms.URLField(label=gettext_lazy("website"), required=False, assume_scheme="https")

    class Meta:
        model = Customer
        fields = [
            "kind",
            "name",
            "industry",
            "source",
            "relationship_stage",
            "lifecycle_stage",
            "value_tier",
            "is_key_account",
            "email",
            "phone",
            "birthday",
            "owner",
            "team",
            "region",
            "notes",
        ]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        user_choices(self, "owner")
        self.fields["team"].queryset = Team.objects.all()
        self.fields["region"].queryset = Region.objects.all()
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags)
            self.initial["website"] = self.instance.website
        if not has_perm(user, Perm.REASSIGN_RECORDS):
            for field in ("owner", "team"):
                self.fields[field].disabled = True
        custom_fields_add(self, entity="customer", user=user, record=self.instance)

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def service_data(self) -> dict:
        data = {f: v for f, v in self.cleaned_data.items() if f not in self.disabled_fields()}
        return custom_service_data(self, data)

    def disabled_fields(self) -> set[str]:
        return {name for name, field in self.fields.items() if field.disabled}


@login_required
@page_permission(Perm.VIEW_RECORDS)
def customer_list(request):
    filters = CustomerFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    rows = (
        selectors.customer_queryset(user=request.user, filters=values)
        .select_related("owner")
        .only(
            "id",
            "name",
            "kind",
            "relationship_stage",
            "value_tier",
            "is_key_account",
            "email",
            "phone",
            "owner__full_name",
            "owner__email",
            "updated_at",
            "custom_fields",
        )
    )
    rows, field_filter = list_page_query(request, rows)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm_core/customers/list.html",
        {
            "filters": filters,
            "page": page,
            "field_filter": field_filter,
            "can_create": has_perm(request.user, Perm.CHANGE_RECORDS),
        },
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def customer_create(request):
    form = CustomerForm(request.POST or None, user=request.user)
    return record_create_page(
        request,
        form=form,
        template="crm_core/customers/form.html",
        create=lambda: services.customer_create(actor=request.user, data=form.service_data()),
        detail_route="crm:customer",
        created_message=_("Customer created."),
        duplicates_of="customer",
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def customer_edit(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    return record_edit_page(
        request,
        record=customer,
        form=form,
        template="crm_core/customers/form.html",
        update=lambda: services.customer_update(
            customer=Customer.objects.get(pk=pk), actor=request.user, data=form.service_data()
        ),
        detail_route="crm:customer",
        context={"customer": customer},
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def customer_detail(request, pk):
    """The 360-degree page: profile, contacts, deals, activities and the timeline."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    can_edit = has_perm(request.user, Perm.CHANGE_RECORDS) and can_see(
        request.user, customer, include_pool=False
    )
    activity_form = None
    if can_edit:  # log a call, visit or task right here (it counts as a follow-up)
        activity_form = QuickActivityForm(
            user=request.user, initial={"kind": Activity.Kind.CALL, "customer": customer.pk}
        )
        activity_form.fields["customer"].widget = forms.HiddenInput()
    return render(
        request,
        "crm_core/customers/detail.html",
        {
            "customer": customer,
            "contacts": customer.contacts.all()[:50],
            "deals": customer.deals.select_related("stage", "owner")[:50],
            "timeline": selectors.customer_timeline(customer=customer, limit=50),
            "can_edit": can_edit,
            "activity_form": activity_form,
        },
    )


@login_required
@page_permission(Perm.DELETE_RECORDS)
def customer_delete(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    return record_delete_page(
        request,
        record=customer,
        list_route="crm:customers",
        detail_route="crm:customer",
        delete=lambda: services.customer_delete(customer=customer, actor=request.user),
        deleted_message=_("Customer deleted."),
    )
