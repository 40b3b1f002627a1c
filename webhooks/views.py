"""Pages of the webhooks app: endpoints (list, create, edit, secret, test) and the
delivery log (filters, attempts, replay). Admins only."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm, Role
from crm_platform.kernel.forms import form_add_errors

from . import event_types, selectors, services
from .models import Delivery


class EndpointForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("URL"), max_length=2000)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=event_types.event_type_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every event."),
    )
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)
    reader_role = forms.TypedChoiceField(
        label=gettext_lazy("Sends what this role may see"),
        choices=Role.choices,
        initial=Role.ADMIN,
        required=False,
        empty_value=Role.ADMIN,
        help_text=gettext_lazy("Fields hidden from this role are left out of the bodies."),
    )


class DeliveryFilterForm(forms.Form):
    endpoint = forms.TypedChoiceField(
        label=gettext_lazy("Endpoint"), coerce=int, required=False, empty_value=None
    )
    event_type = forms.ChoiceField(label=gettext_lazy("Event"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *Delivery.Status.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["endpoint"].choices = [
            ("", _("Any endpoint")),
            *((e.pk, e.url) for e in selectors.endpoint_list()),
        ]
        self.fields["event_type"].choices = [
            ("", _("Any event")),
            *event_types.event_type_choices(),
            (event_types.WEBHOOK_TEST, event_types.WEBHOOK_TEST),
        ]


def _admin(view):
    # never_cache: some of these pages show a signing secret.
    return never_cache(login_required(page_permission(Perm.MANAGE_WEBHOOKS)(view)))


@_admin
def endpoint_list(request):
    form = EndpointForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, new_secret = services.endpoint_create(
                actor=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            form = EndpointForm()
    return render(
        request,
        "webhooks/endpoints.html",
        {"endpoints": selectors.endpoint_list(), "form": form, "new_secret": new_secret},
    )


@_admin
def endpoint_edit(request, pk):
    endpoint = selectors.endpoint_get(pk=pk)
    initial = {f: getattr(endpoint, f) for f in services.EDITABLE}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhooks:endpoint", pk=pk)
    return render(
        request,
        "webhooks/endpoint.html",
        {
            "endpoint": endpoint,
            "form": form,
            "deliveries": selectors.delivery_list(endpoint=endpoint.pk)[:10],
        },
    )


def _secret_page(request, endpoint, secret, *, rotated: bool):
    return render(
        request,
        "webhooks/secret.html",
        {"endpoint": endpoint, "secret": secret, "rotated": rotated},
    )


@_admin
@require_POST
def endpoint_rotate(request, pk):
    endpoint = selectors.endpoint_get(pk=pk)
    secret = services.endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
    return _secret_page(request, endpoint, secret, rotated=True)


@_admin
@require_POST
def endpoint_reveal(request, pk):
    endpoint = selectors.endpoint_get(pk=pk)
    secret = services.endpoint_secret_reveal(endpoint=endpoint, actor=request.user)
    return _secret_page(request, endpoint, secret, rotated=False)


@_admin
@require_POST
def endpoint_test(request, pk):
    endpoint = selectors.endpoint_get(pk=pk)
    services.endpoint_send_test(endpoint=endpoint, actor=request.user)
    messages.success(request, _("Test event queued: its outcome appears in the delivery log."))
    return redirect("webhooks:endpoint", pk=pk)


@_admin
@require_POST
def endpoint_delete(request, pk):
    services.endpoint_delete(endpoint=selectors.endpoint_get(pk=pk), actor=request.user)
    messages.success(request, _("Endpoint deleted."))
    return redirect("webhooks:endpoints")


@_admin
def delivery_list(request):
    filters = DeliveryFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.delivery_list(
        endpoint=values.get("endpoint"),
        event_type=values.get("event_type", ""),
        status=values.get("status", ""),
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "webhooks/deliveries.html",
        {"page": page, "filters": filters, "query": query.urlencode()},
    )


@_admin
def delivery_detail(request, pk):
    delivery = selectors.delivery_get(pk=pk)
    return render(
        request,
        "webhooks/delivery.html",
        {
            "delivery": delivery,
            "attempts": selectors.delivery_attempts(delivery=delivery),
            "body": json.dumps(delivery.body, indent=2, ensure_ascii=False),
        },
    )


@_admin
@require_POST
def delivery_replay(request, pk):
    services.delivery_replay(delivery=selectors.delivery_get(pk=pk), actor=request.user)
    messages.success(request, _("Delivery queued again."))
    return redirect("webhooks:delivery", pk=pk)
