"""Contact pages: list with htmx search, create/edit, detail."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team
from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm
from customization.forms import custom_fields_add, custom_service_data
from customization.pages import list_page_query

from ..models import Contact, Customer, Region
from ..records import can_see, visible
from ..selectors import contacts as selectors
from ..services import contacts as services
from .common import (
    live_search_field,
    owner_filter_field,
    record_create_page,
    record_delete_page,
    record_edit_page,
    user_choices,
)


class ContactFilterForm(forms.Form):
    q = live_search_field(rows_id="contact-rows", placeholder=gettext_lazy("Name, e-mail or phone"))
    owner = owner_filter_field(with_pool=False)
    decision_role = forms.ChoiceField(
        label=gettext_lazy("Decision role"),
        required=False,
        choices=[("", "—"), *Contact.DecisionRole.choices],
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _lines(value: str) -> list[str]:
    """One value per line or comma."""
    return [v.strip() for v in value.replace(",", "\n").splitlines() if v.strip()]


def _checked(cleaner, value: str, field: str) -> list[str]:
    """The service's own check of e-mails or phones, so the page shows every bad field."""
    errors: dict[str, list[str]] = {}
    values = cleaner(_lines(value), errors)
    if errors:
        raise ValidationError(errors[field])
    return values


class ContactForm(forms.ModelForm):
    """Parses the page's input; contact services validate and save it."""

    customer = forms.ModelChoiceField(
        label=gettext_lazy("Customer"),
        queryset=Customer.objects.none(),
        required=False,
        widget=forms.NumberInput,
        help_text=gettext_lazy("The customer's number, shown on its page."),
    )
    emails = forms.CharField(
        label=gettext_lazy("E-mails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One per line."),
    )
    phones = forms.CharField(
        label=gettext_lazy("Phones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One per line."),
    )

    class Meta:
        model = Contact
        fields = [
            "name",
            "customer",
            "job_title",
            "decision_role",
            "emails",
            "phones",
            "birthday",
            "preferred_channel",
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
        self.fields["customer"].queryset = visible(Customer.objects.all(), user, include_pool=True)
        self.fields["customer"].error_messages["invalid_choice"] = _(
            "Choose a customer you can see."
        )
        user_choices(self, "owner")
        self.fields["owner"].required = False
        self.fields["team"].queryset = Team.objects.all()
        self.fields["region"].queryset = Region.objects.all()
        if self.instance.pk:
            self.initial["emails"] = "\n".join(self.instance.emails)
            self.initial["phones"] = "\n".join(self.instance.phones)
        if not has_perm(user, Perm.REASSIGN_RECORDS):
            for field in ("owner", "team"):
                self.fields[field].disabled = True
        custom_fields_add(self, entity="contact", user=user, record=self.instance)

    def clean_emails(self):
        return _checked(services.clean_emails, self.cleaned_data["emails"], "emails")

    def clean_phones(self):
        return _checked(services.clean_phones, self.cleaned_data["phones"], "phones")

    def service_data(self) -> dict:
        data = {f: v for f, v in self.cleaned_data.items() if not self.fields[f].disabled}
        if data.get("owner") is None:
            data.pop("owner", None)  # keep the current owner (or the creator)
        return custom_service_data(self, data)


@login_required
@page_permission(Perm.VIEW_RECORDS)
def contact_list(request):
    filters = ContactFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.contact_queryset(user=request.user, filters=values).select_related(
        "owner", "customer"
    )
    rows, field_filter = list_page_query(request, rows)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm_core/contacts/list.html",
        {
            "filters": filters,
            "page": page,
            "field_filter": field_filter,
            "can_create": has_perm(request.user, Perm.CHANGE_RECORDS),
        },
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def contact_create(request):
    initial = {"customer": request.GET.get("customer")} if request.GET.get("customer") else {}
    form = ContactForm(request.POST or None, user=request.user, initial=initial)
    return record_create_page(
        request,
        form=form,
        template="crm_core/contacts/form.html",
        create=lambda: services.contact_create(actor=request.user, data=form.service_data()),
        detail_route="crm:contact",
        created_message=_("Contact created."),
        duplicates_of="contact",
        duplicate_keys=_duplicate_keys,
    )


def _duplicate_keys(data: dict) -> dict:
    """A contact's first e-mail and phone stand for it in the duplicate check."""
    return {
        "name": data.get("name"),
        "email": next(iter(data.get("emails") or []), ""),
        "phone": next(iter(data.get("phones") or []), ""),
    }


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def contact_edit(request, pk):
    contact = selectors.contact_get(user=request.user, pk=pk)
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    return record_edit_page(
        request,
        record=contact,
        form=form,
        template="crm_core/contacts/form.html",
        update=lambda: services.contact_update(
            contact=Contact.objects.get(pk=pk), actor=request.user, data=form.service_data()
        ),
        detail_route="crm:contact",
        context={"contact": contact},
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def contact_detail(request, pk):
    contact = selectors.contact_get(user=request.user, pk=pk)
    return render(
        request,
        "crm_core/contacts/detail.html",
        {
            "contact": contact,
            "customer_visible": contact.customer_id and can_see(request.user, contact.customer),
            "activities": contact.activities.select_related("assignee")[:50],
            "can_edit": has_perm(request.user, Perm.CHANGE_RECORDS),
        },
    )


@login_required
@page_permission(Perm.DELETE_RECORDS)
def contact_delete(request, pk):
    contact = selectors.contact_get(user=request.user, pk=pk)
    return record_delete_page(
        request,
        record=contact,
        list_route="crm:contacts",
        detail_route="crm:contact",
        delete=lambda: services.contact_delete(contact=contact, actor=request.user),
        deleted_message=_("Contact deleted."),
    )
