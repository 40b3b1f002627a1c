"""Activity pages: my tasks (overdue, today, upcoming) with a quick-add form, completing a
task, the month calendar, and the timeline partial other record pages include."""

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.forms import form_add_errors
from customization.forms import custom_fields_add, custom_service_data

from ..models import Activity, Contact, Customer, Deal, Lead
from ..records import visible
from ..selectors import activities as selectors
from ..services import activities as services

CHOICES_SHOWN = 200


def _datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class QuickActivityForm(forms.Form):
    """A task, call, meeting, visit or note in a few fields; linked records come from the
    page it is on (hidden) or are chosen among the user's recent ones."""

    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=Activity.Kind.choices)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    due_at = forms.DateTimeField(
        label=gettext_lazy("Due"), required=False, widget=_datetime_input()
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"), required=False, widget=_datetime_input()
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"),
        choices=Activity.Priority.choices,
        initial=Activity.Priority.NORMAL,
    )
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Customer"), queryset=Customer.objects.none(), required=False
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.all(), required=False, widget=forms.HiddenInput
    )
    lead = forms.ModelChoiceField(
        queryset=Lead.objects.all(), required=False, widget=forms.HiddenInput
    )
    deal = forms.ModelChoiceField(
        queryset=Deal.objects.all(), required=False, widget=forms.HiddenInput
    )
    body = forms.CharField(
        label=gettext_lazy("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        customers = Customer.objects.none()
        if user is not None:
            customers = visible(Customer.objects.all(), user, include_pool=True)
        field = self.fields["customer"]
        field.queryset = customers
        shown = list(customers.order_by("-id").values_list("pk", "name")[:CHOICES_SHOWN])
        field.widget.choices = [("", "—"), *shown]
        custom_fields_add(self, entity="activity", user=user)

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        if data.get("kind") != Activity.Kind.TASK:
            data.pop("priority", None)
        return custom_service_data(self, data)


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _activities_page(request, *, form=None, status=200, notice=""):
    return render(
        request,
        "crm_core/activities/list.html",
        {
            "tasks": selectors.my_tasks(user=request.user),
            "recent": selectors.recent_activities(user=request.user),
            "form": form
            or QuickActivityForm(user=request.user, initial={"kind": Activity.Kind.TASK}),
            "can_create": has_perm(request.user, Perm.CHANGE_RECORDS),
            "notice": notice,
        },
        status=status,
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def activity_list(request):
    """My tasks: overdue, today, upcoming; what I logged lately; a quick-add form."""
    return _activities_page(request)


@login_required
@page_permission(Perm.CHANGE_RECORDS)
@require_POST
def activity_create(request):
    """The quick-add form (on the activities page, or a record's page with `next`)."""
    form = QuickActivityForm(request.POST, user=request.user)
    saved = None
    if form.is_valid():
        try:
            saved = services.activity_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            form_add_errors(form, exc)
    next_url = request.POST.get("next")
    if saved is not None:
        notice = _("Saved: %(subject)s") % {"subject": saved.subject}
        if next_url or not request.htmx:
            messages.success(request, notice)
            return redirect(_next_url(request, reverse("crm:activities")))
        return _activities_page(request, notice=notice)
    if next_url:
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(_next_url(request, reverse("crm:activities")))
    # htmx shows the errors in place: a 200 so it swaps the form.
    return _activities_page(request, form=form, status=200 if request.htmx else 400)


@login_required
@page_permission(Perm.CHANGE_RECORDS)
@require_POST
def activity_complete(request, pk):
    activity = selectors.activity_get(user=request.user, pk=pk)
    try:
        activity = services.activity_complete(activity=activity, actor=request.user)
    except PermissionDenied:
        messages.error(request, _("You may not change this activity."))
        return redirect(_next_url(request, reverse("crm:activities")))
    if request.htmx:
        return render(request, "crm_core/activities/_task_done.html", {"task": activity})
    messages.success(request, _("Task done."))
    return redirect(_next_url(request, reverse("crm:activities")))


def _month(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return timezone.localdate().replace(day=1)


@login_required
@page_permission(Perm.VIEW_RECORDS)
def activity_calendar(request):
    """A month of my meetings, visits and tasks (?month=YYYY-MM)."""
    first = _month(request.GET.get("month", ""))
    previous = (first.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return render(
        request,
        "crm_core/activities/calendar.html",
        {
            "month": first,
            "weeks": selectors.calendar_month(
                user=request.user, year=first.year, month=first.month
            ),
            "previous": previous.strftime("%Y-%m"),
            "following": following.strftime("%Y-%m"),
            "today": timezone.localdate(),
        },
    )
