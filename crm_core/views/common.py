"""What the record pages share: list filters, the create page (duplicates first), the edit
and delete pages.

The record's own service does the validation; its errors are shown on the page's form.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from crm_platform.kernel.forms import form_add_errors

from ..records import can_see
from ..selectors.duplicates import duplicates_warning


def live_search_field(*, rows_id: str, placeholder) -> forms.CharField:
    """The list pages' search box: while typing, htmx swaps in the rows of the new results
    (the element `#rows_id`) and keeps the URL in step."""
    return forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        widget=forms.SearchInput(
            attrs={
                "placeholder": placeholder,
                "hx-get": "",
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": f"#{rows_id}",
                "hx-select": f"#{rows_id}",
                "hx-swap": "outerHTML",
                "hx-push-url": "true",
                "hx-include": "closest form",
            }
        ),
    )


def owner_filter_field(*, with_pool: bool = True) -> forms.ChoiceField:
    choices = [("", gettext_lazy("All I can see")), ("me", gettext_lazy("Mine"))]
    if with_pool:
        choices.append(("pool", gettext_lazy("Public pool")))
    return forms.ChoiceField(label=gettext_lazy("Owner"), required=False, choices=choices)


def user_choices(form: forms.ModelForm, *fields: str) -> None:
    """Active users for `fields`, plus whoever the record has there now: a record of
    someone who left shows and keeps its owner until it is reassigned, rather than
    failing validation or dropping the owner on save (records.user_field_valid)."""
    kept = [getattr(form.instance, f"{field}_id", None) for field in fields]
    queryset = User.objects.filter(Q(is_active=True) | Q(pk__in=[pk for pk in kept if pk]))
    for field in fields:
        form.fields[field].queryset = queryset


def _call(form: forms.Form, service: Callable[[], Model]) -> Model | None:
    try:
        return service()
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None


def record_create_page(
    request,
    *,
    form: forms.Form,
    create: Callable[[], Model],
    template: str,
    detail_route: str,
    created_message: str,
    duplicates_of: str,
    duplicate_keys: Callable[[dict], dict] | None = None,
    context: dict | None = None,
):
    """Possible duplicates are shown first and need a confirmation; then `create()`."""
    duplicates = {}
    if request.method == "POST" and form.is_valid():
        if not request.POST.get("confirm_duplicates"):
            keys = duplicate_keys(form.cleaned_data) if duplicate_keys else form.cleaned_data
            duplicates = duplicates_warning(entity=duplicates_of, data=keys, user=request.user)
        if not duplicates and (record := _call(form, create)):
            messages.success(request, created_message)
            return redirect(detail_route, pk=record.pk)
    return render(request, template, {"form": form, **duplicates, **(context or {})})


def record_edit_page(
    request,
    *,
    record: Model,
    form: forms.Form,
    update: Callable[[], Model],
    template: str,
    detail_route: str,
    context: dict,
):
    """Only for records the user may change (not merely see in the pool)."""
    if not can_see(request.user, record, include_pool=False):
        raise PermissionDenied
    if request.method == "POST" and form.is_valid() and _call(form, update):
        messages.success(request, _("Saved."))
        return redirect(detail_route, pk=record.pk)
    return render(request, template, {"form": form, **context})


def record_delete_page(
    request,
    *,
    record: Model,
    delete: Callable[[], None],
    list_route: str,
    detail_route: str,
    deleted_message: str,
):
    """POST only. A refusal the service explains (e.g. a customer with deals) is shown on
    the record's page; nothing is deleted then."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not can_see(request.user, record, include_pool=False):
        raise PermissionDenied
    try:
        delete()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(detail_route, pk=record.pk)
    messages.success(request, deleted_message)
    return redirect(list_route)
