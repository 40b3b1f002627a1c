"""Settings › Workflows pages: the rule list, the builder, dry run, and run logs (per
rule for admins; per record for anyone who can see the record)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm

from . import selectors, services
from .builder import ACTION_LABELS, TRIGGER_LABELS, Builder
from .entities import ENTITIES
from .models import WorkflowRun

RECORD_PAGES = {
    "customer": "crm:customer",
    "contact": "crm:contact",
    "lead": "crm:lead",
    "deal": "crm:deal",
}


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
def rule_list(request):
    rules = selectors.rule_list()
    return render(
        request,
        "customization/workflows/rules.html",
        {"rules": rules, "trigger_labels": TRIGGER_LABELS},
    )


def builder_page(request, *, builder, save, template: str, context: dict):
    """The rule and approval-process builders' page. GET shows `builder`; a POST with
    `_change` re-renders it (under htmx, just the form) with a row added or removed or
    another record type; a plain POST calls `save(builder)`, which returns the URL to go
    to, or raises the ValidationError shown on the form."""
    if request.method == "POST" and not request.POST.get("_change"):
        try:
            return redirect(save(builder))
        except ValidationError as exc:
            builder.set_errors(exc.message_dict)
    context = {**builder.context(), **context, "action_labels": ACTION_LABELS}
    if request.htmx and request.POST.get("_change"):
        return render(request, template + "#builder", context)
    return render(request, template, context)


def _builder_page(request, *, rule=None):
    if request.method == "POST":
        builder = Builder.from_post(request.POST, entity=rule.entity if rule else None)
    else:
        builder = Builder.from_rule(rule) if rule else Builder(request.GET.get("entity", "deal"))
        if builder.entity not in ENTITIES:
            builder.entity = "deal"

    def save(builder):
        if rule is None:
            saved = services.rule_create(actor=request.user, data=builder.definition())
            messages.success(request, _("Rule created."))
        else:
            saved = services.rule_update(rule=rule, actor=request.user, data=builder.definition())
            messages.success(request, _("Rule saved as a new version."))
        return reverse("customization:workflow_rule_edit", args=[saved.pk])

    return builder_page(
        request,
        builder=builder,
        save=save,
        template="customization/workflows/rule_form.html",
        context={"rule": rule},
    )


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
def rule_create(request):
    return _builder_page(request)


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
def rule_edit(request, pk):
    return _builder_page(request, rule=get_object_or_404(selectors.rule_list(), pk=pk))


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
@require_POST
def rule_delete(request, pk):
    rule = get_object_or_404(selectors.rule_list(), pk=pk)
    services.rule_delete(rule=rule, actor=request.user)
    messages.success(request, _("Rule deleted."))
    return redirect("customization:workflow_rules")


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
def rule_dry_run(request, pk):
    rule = get_object_or_404(selectors.rule_list(), pk=pk)
    result, error = None, ""
    record_id = request.GET.get("record_id", "").strip()
    if record_id:
        try:
            result = services.rule_dry_run(rule=rule, record_id=int(record_id), actor=request.user)
        except (ValueError, ValidationError):
            error = _("No such record.")
    return render(
        request,
        "customization/workflows/dry_run.html",
        {
            "rule": rule,
            "record_id": record_id,
            "result": result,
            "error": error,
            "action_labels": ACTION_LABELS,
        },
    )


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
def rule_runs(request, pk):
    rule = get_object_or_404(selectors.rule_list(), pk=pk)
    status = request.GET.get("status", "")
    runs = selectors.run_list(rule=rule, status=status if status in WorkflowRun.Status else None)
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "customization/workflows/runs.html",
        {
            "rule": rule,
            "page": page,
            "status": status,
            "statuses": WorkflowRun.Status.choices,
            "action_labels": ACTION_LABELS,
        },
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def record_runs(request):
    record_type = request.GET.get("record_type", "")
    try:
        record_id = int(request.GET.get("record_id", ""))
    except ValueError:
        raise PermissionDenied from None
    runs = selectors.record_runs(user=request.user, record_type=record_type, record_id=record_id)
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "customization/workflows/runs.html",
        {
            "page": page,
            "record_type": record_type,
            "record_id": record_id,
            "record_page": RECORD_PAGES.get(record_type),
            "action_labels": ACTION_LABELS,
        },
    )
