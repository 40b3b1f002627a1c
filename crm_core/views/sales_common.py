"""What the lead-to-cash pages share: the action button flow (POST -> service ->
message -> back to the record), paged lists with filters, a simple form page."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_platform.kernel.forms import form_add_errors

from .common import live_search_field, owner_filter_field

PAGE_SIZE = 50


def action_page(
    request, *, run: Callable[[], object], done: str, back: str, to: Callable | None = None
):
    """A button's POST: run the service; its refusal is shown as a message. Redirects to
    `to(result)` when given, else to `back`."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        result = run()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    except PermissionDenied:
        messages.error(request, _("You may not do this."))
        return redirect(back)
    messages.success(request, done)
    return redirect(to(result) if to else back)


def list_filters(*, statuses, rows_id: str) -> type[forms.Form]:
    class SalesFilterForm(forms.Form):
        q = live_search_field(rows_id=rows_id, placeholder=gettext_lazy("Number or customer"))
        status = forms.ChoiceField(
            label=gettext_lazy("Status"), required=False, choices=[("", "—"), *statuses]
        )
        owner = owner_filter_field(with_pool=False)

    return SalesFilterForm


def list_page(request, *, queryset_for: Callable[[dict], object], filters_class, template, extra):
    filters = filters_class(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(queryset_for(values), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, template, {"filters": filters, "page": page, **extra})


def form_page(
    request,
    *,
    form: forms.Form,
    save: Callable[[dict], object],
    title: str,
    cancel: str,
    done: Callable[[object], str],
    template: str = "crm_core/sales/form.html",
    context: dict | None = None,
):
    """A form whose cleaned data goes to `save`; the service's errors land on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(done(result))
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        template,
        {"form": form, "title": title, "cancel": cancel, **(context or {})},
        status=status,
    )
