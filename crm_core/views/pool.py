"""Public pool pages: the pool (leads and customers tabs, claim with htmx), release,
and the pool settings page with assignment rules and regions."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Team
from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.forms import form_add_errors

from ..models import AssignmentRule, PoolSettings, Region
from ..selectors import pool as selectors
from ..services import pool as services
from .common import live_search_field

TABS = {"leads": "lead", "customers": "customer"}
RECORD_PAGES = {"lead": "crm:lead", "customer": "crm:customer"}


class PoolFilterForm(forms.Form):
    tab = forms.ChoiceField(
        choices=[(t, t) for t in TABS], required=False, widget=forms.HiddenInput
    )
    q = live_search_field(rows_id="pool-rows", placeholder=gettext_lazy("Name, e-mail or phone"))
    region = forms.ModelChoiceField(
        label=gettext_lazy("Region"),
        queryset=Region.objects.all(),
        required=False,
        empty_label=gettext_lazy("All regions"),
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def pool(request):
    filters = PoolFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    tab = values.get("tab") or "leads"
    record_type = TABS[tab]
    rows = selectors.pool_queryset(
        user=request.user,
        record_type=record_type,
        filters={
            "q": values.get("q"),
            "region": values["region"].pk if values.get("region") else None,
        },
    ).select_related("region")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm_core/pool/pool.html",
        {
            "filters": filters,
            "tab": tab,
            "record_type": record_type,
            "page": page,
            "allowance": selectors.pool_allowance(user=request.user),
            "can_claim": has_perm(request.user, Perm.USE_POOL),
            "can_manage": has_perm(request.user, Perm.MANAGE_POOL_RULES),
        },
    )


def _claim(request, record_type: str, pk: int):
    try:
        record = selectors.pool_record_get(user=request.user, record_type=record_type, pk=pk)
    except Http404:
        if not request.htmx:
            raise
        # Lost a race: someone else's now. Say so in the row rather than swap nothing.
        return render(
            request,
            "crm_core/pool/_claimed.html",
            {
                "record": {"pk": pk, "name": ""},
                "record_type": record_type,
                "error": _("This record is no longer in the public pool."),
            },
        )
    error = None
    try:
        record = services.pool_claim(record=record, actor=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        return render(
            request,
            "crm_core/pool/_claimed.html",
            {"record": record, "record_type": record_type, "error": error},
        )
    if error:
        messages.error(request, error)
        return redirect(f"{_pool_url()}?tab={record_type}s")
    messages.success(request, _("Claimed: %(name)s is yours now.") % {"name": record.name})
    return redirect(RECORD_PAGES[record_type], pk=record.pk)


def _pool_url():
    from django.urls import reverse

    return reverse("crm:pool")


@login_required
@require_POST
@page_permission(Perm.USE_POOL)
def pool_lead_claim(request, pk):
    return _claim(request, "lead", pk)


@login_required
@require_POST
@page_permission(Perm.USE_POOL)
def pool_customer_claim(request, pk):
    return _claim(request, "customer", pk)


def _release(request, record_type: str, pk: int):
    record = selectors.pool_record_get(user=request.user, record_type=record_type, pk=pk)
    try:
        services.pool_release(
            record=record,
            actor=request.user,
            reason=request.POST.get("reason", "")[:200],
            assign=bool(request.POST.get("assign"))
            and has_perm(request.user, Perm.REASSIGN_RECORDS),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(RECORD_PAGES[record_type], pk=pk)
    messages.success(request, _("Released to the public pool."))
    return redirect(f"{_pool_url()}?tab={record_type}s")


@login_required
@require_POST
@page_permission(Perm.USE_POOL)
def pool_lead_release(request, pk):
    return _release(request, "lead", pk)


@login_required
@require_POST
@page_permission(Perm.USE_POOL)
def pool_customer_release(request, pk):
    return _release(request, "customer", pk)


# --- settings, assignment rules, regions ---------------------------------------------------


class PoolSettingsForm(forms.ModelForm):
    class Meta:
        model = PoolSettings
        fields = list(services.SETTING_FIELDS)


class AssignmentRuleForm(forms.ModelForm):
    class Meta:
        model = AssignmentRule
        fields = ["name", "entity", "team", "region", "capacity", "position", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.all()
        self.fields["region"].queryset = Region.objects.all()


class RegionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("New region"), max_length=100)


def _settings_page(request, form, region_form=None, status=200):
    return render(
        request,
        "crm_core/pool/settings.html",
        {
            "form": form,
            "region_form": region_form or RegionForm(prefix="region"),
            "rules": selectors.assignment_rule_list(),
            "regions": selectors.region_list(),
        },
        status=status,
    )


@login_required
@page_permission(Perm.MANAGE_POOL_RULES)
def pool_settings(request):
    settings = services.pool_settings_get()
    form = PoolSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in services.SETTING_FIELDS}
        try:
            services.pool_settings_update(actor=request.user, data=data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("crm:pool_settings")
    return _settings_page(request, form)


def _rule_form_page(request, rule: AssignmentRule | None):
    form = AssignmentRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if rule is None:
                services.assignment_rule_create(actor=request.user, data=data)
            else:
                services.assignment_rule_update(
                    rule=AssignmentRule.objects.get(pk=rule.pk), actor=request.user, data=data
                )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("crm:pool_settings")
    return render(request, "crm_core/pool/rule_form.html", {"form": form, "rule": rule})


@login_required
@page_permission(Perm.MANAGE_POOL_RULES)
def assignment_rule_create(request):
    return _rule_form_page(request, None)


@login_required
@page_permission(Perm.MANAGE_POOL_RULES)
def assignment_rule_edit(request, pk):
    return _rule_form_page(request, selectors.assignment_rule_get(pk=pk))


@login_required
@require_POST
@page_permission(Perm.MANAGE_POOL_RULES)
def assignment_rule_delete(request, pk):
    services.assignment_rule_delete(rule=selectors.assignment_rule_get(pk=pk), actor=request.user)
    messages.success(request, _("Assignment rule deleted."))
    return redirect("crm:pool_settings")


@login_required
@require_POST
@page_permission(Perm.MANAGE_POOL_RULES)
def region_create(request):
    region_form = RegionForm(request.POST, prefix="region")
    if region_form.is_valid():
        try:
            services.region_create(actor=request.user, data=region_form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(region_form, exc)
        else:
            messages.success(request, _("Region added."))
            return redirect("crm:pool_settings")
    form = PoolSettingsForm(instance=services.pool_settings_get())
    return _settings_page(request, form, region_form)


@login_required
@require_POST
@page_permission(Perm.MANAGE_POOL_RULES)
def region_delete(request, pk):
    try:
        services.region_delete(region=selectors.region_get(pk=pk), actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Region deleted."))
    return redirect("crm:pool_settings")


@login_required
@require_POST
@page_permission(Perm.MANAGE_POOL_RULES)
def region_rename(request, pk):
    try:
        services.region_update(
            region=selectors.region_get(pk=pk),
            actor=request.user,
            data={"name": request.POST.get("name", "")},
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Region renamed."))
    return redirect("crm:pool_settings")
