"""Customer pages: list with search and filters, create/edit, the 360-degree page."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team, User
from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.forms import form_add_errors

from ..models import Activity, Customer, Region
from ..records import can_see
from ..selectors import customers as selectors
from ..selectors.duplicates import duplicates_warning
from ..services import customers as services
from .activities import QuickActivityForm


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        widget=forms.SearchInput(
            attrs={
                "placeholder": gettext_lazy("Name, e-mail or phone"),
                "hx-get": "",
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#customer-rows",
                "hx-select": "#customer-rows",
                "hx-swap": "outerHTML",
                "hx-push-url": "true",
                "hx-include": "closest form",
            }
        ),
    )
    owner = forms.ChoiceField(
        label=gettext_lazy("Owner"),
        required=False,
        choices=[
            ("", gettext_lazy("All I can see")),
            ("me", gettext_lazy("Mine")),
            ("pool", gettext_lazy("Public pool")),
        ],
    )
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
        self.fields["owner"].queryset = User.objects.filter(is_active=True)
        self.fields["team"].queryset = Team.objects.all()
        self.fields["region"].queryset = Region.objects.all()
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags)
            self.initial["website"] = self.instance.website
        if not has_perm(user, Perm.REASSIGN_RECORDS):
            for field in ("owner", "team"):
                self.fields[field].disabled = True

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def service_data(self) -> dict:
        return {f: v for f, v in self.cleaned_data.items() if f not in self.disabled_fields()}

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
        )
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm_core/customers/list.html",
        {
            "filters": filters,
            "page": page,
            "can_create": has_perm(request.user, Perm.CHANGE_RECORDS),
        },
    )


def _save(request, form: CustomerForm, customer: Customer | None):
    try:
        if customer is None:
            return services.customer_create(actor=request.user, data=form.service_data())
        return services.customer_update(
            customer=customer, actor=request.user, data=form.service_data()
        )
    except ValidationError as exc:
        form_add_errors(form, exc)
    return None


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def customer_create(request):
    """New customer; possible duplicates are shown first and need a confirmation."""
    form = CustomerForm(request.POST or None, user=request.user)
    duplicates = {}
    if request.method == "POST" and form.is_valid():
        if not request.POST.get("confirm_duplicates"):
            duplicates = duplicates_warning(
                entity="customer", data=form.cleaned_data, user=request.user
            )
        if not duplicates and (customer := _save(request, form, None)):
            messages.success(request, _("Customer created."))
            return redirect("crm:customer", pk=customer.pk)
    return render(request, "crm_core/customers/form.html", {"form": form, **duplicates})


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def customer_edit(request, pk):
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not can_see(request.user, customer, include_pool=False):
        raise PermissionDenied
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        if _save(request, form, Customer.objects.get(pk=pk)):
            messages.success(request, _("Saved."))
            return redirect("crm:customer", pk=pk)
    return render(request, "crm_core/customers/form.html", {"form": form, "customer": customer})


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
