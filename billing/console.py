"""The operator console on the public host: companies, one company, metrics, audit log.

Operators are the public schema's superusers; they sign in on the admin's login page.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenants.models import Tenant

from . import gateway
from .charts import line_chart
from .models import BillingAccount, OperatorAction, Plan, StripeEvent
from .selectors import last_activity, tenants_for_console
from .services import operator as ops
from .services.metrics import metrics_series
from .services.plans import plan_save


def operator_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if getattr(request.tenant, "schema_name", None) != settings.PUBLIC_SCHEMA_NAME:
            raise Http404
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "/admin/login/")
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@operator_required
def tenant_list(request):
    filters = {
        "q": request.GET.get("q", "").strip(),
        "status": request.GET.get("status", ""),
        "plan": request.GET.get("plan", ""),
        "stuck": request.GET.get("stuck") == "1",
    }
    page = Paginator(tenants_for_console(**filters), 50).get_page(request.GET.get("page"))
    activity = last_activity(page.object_list)
    rows = [
        {
            "tenant": tenant,
            "account": getattr(tenant, "billing_account", None),
            "last_activity": activity.get(tenant.schema_name),
        }
        for tenant in page.object_list
    ]
    return render(
        request,
        "billing/console/tenants.html",
        {
            "rows": rows,
            "page": page,
            "filters": filters,
            "statuses": [s for s in Tenant.Status.choices if s[0] not in ("template", "pooled")],
            "plans": Plan.objects.all(),
        },
    )


@operator_required
def tenant_detail(request, pk: int):
    tenant = get_object_or_404(
        Tenant.objects.exclude(status__in=("template", "pooled")).exclude(schema_name="public"),
        pk=pk,
    )
    account = BillingAccount.objects.select_related("plan").filter(tenant=tenant).first()
    return render(
        request,
        "billing/console/tenant.html",
        {
            "tenant": tenant,
            "account": account,
            "invoices": account.invoices.all()[:50] if account else [],
            "events": StripeEvent.objects.filter(account=account)[:50] if account else [],
            "audit": OperatorAction.objects.filter(tenant=tenant)[:50],
            "plans": Plan.objects.filter(is_active=True),
            "purge_allowed_at": ops.purge_allowed_at(tenant),
            "stripe_on": gateway.enabled(),
        },
    )


def _int(request, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        raise ValidationError({name: [_("Enter a whole number.")]}) from None


@require_POST
@operator_required
def tenant_action(request, pk: int, action: str):
    tenant = get_object_or_404(Tenant, pk=pk)
    if action not in ops.ACTIONS:
        raise Http404
    operator = request.user
    try:
        if action == "extend_trial":
            ops.operator_extend_trial(tenant=tenant, operator=operator, days=_int(request, "days"))
        elif action == "change_plan":
            plan = Plan.objects.filter(code=request.POST.get("plan", ""), is_active=True).first()
            if plan is None:
                raise ValidationError({"plan": [_("Choose a plan.")]})
            ops.operator_change_plan(tenant=tenant, operator=operator, plan=plan)
        elif action == "grant_free_seats":
            ops.operator_grant_free_seats(
                tenant=tenant, operator=operator, seats=_int(request, "seats")
            )
        elif action == "suspend":
            ops.operator_suspend(
                tenant=tenant, operator=operator, reason=request.POST.get("reason", "")[:500]
            )
        elif action == "reactivate":
            ops.operator_reactivate(tenant=tenant, operator=operator)
        elif action == "sync_seats":
            ops.operator_sync_seats(tenant=tenant, operator=operator)
        elif action == "cancel":
            ops.operator_cancel(tenant=tenant, operator=operator)
        elif action == "export":
            data = ops.operator_export(tenant=tenant, operator=operator)
            response = HttpResponse(data, content_type="application/zip")
            name = f"{tenant.subdomain or tenant.schema_name}-export.zip"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        elif action == "purge":
            ops.operator_purge(
                tenant=tenant, operator=operator, confirm=request.POST.get("confirm", "")
            )
            messages.success(request, _("The company and its data were deleted."))
            return redirect("billing:console")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except gateway.GatewayError as exc:
        messages.error(request, _("Stripe could not be reached: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Done."))
    return redirect("billing:console_tenant", pk=pk)


@operator_required
def metrics(request):
    data = metrics_series(days=30)
    series, labels = data["series"], data["labels"]
    charts = [
        (_("MRR"), line_chart(labels, series["mrr"])),
        (_("Active companies"), line_chart(labels, series["active"])),
        (_("Free trials"), line_chart(labels, series["trials"])),
        (_("Trial-to-paid conversions"), line_chart(labels, series["converted"], bars=True)),
        (_("Churn (cancellations)"), line_chart(labels, series["churned"], bars=True)),
        (_("Failed payments"), line_chart(labels, series["failed"], bars=True)),
    ]
    return render(request, "billing/console/metrics.html", {"data": data, "charts": charts})


@operator_required
def audit_log(request):
    page = Paginator(OperatorAction.objects.all(), 100).get_page(request.GET.get("page"))
    return render(request, "billing/console/audit.html", {"page": page})


def _limits(request) -> dict:
    """The plan form's limits and flags (an empty limit: none)."""

    def optional(name):
        return _int(request, name) if request.POST.get(name) else None

    return {
        "trial_days": _int(request, "trial_days"),
        "max_users": optional("max_users"),
        "max_custom_fields": optional("max_custom_fields"),
        "api_rate_per_minute": _int(request, "api_rate_per_minute")
        if request.POST.get("api_rate_per_minute")
        else 600,
        "is_default": request.POST.get("is_default") == "on",
    }


@operator_required
def plan_list(request):
    if request.method == "POST":
        try:
            plan_save(
                name=request.POST.get("name", ""),
                price_per_user=_int(request, "price_per_user"),
                currency=request.POST.get("currency", ""),
                **_limits(request),
            )
        except (ValidationError, ValueError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Plan saved."))
        return redirect("billing:console_plans")
    return render(request, "billing/console/plans.html", {"plans": Plan.objects.all()})


@operator_required
def plan_edit(request, pk):
    """Name, limits, trial and whether it is offered. The price stays: a Stripe price is
    immutable, so a new price is a new plan that companies are moved to."""
    plan = get_object_or_404(Plan, pk=pk)
    if request.method == "POST":
        try:
            ops.operator_plan_update(
                plan=plan,
                operator=request.user,
                data={
                    "name": request.POST.get("name", ""),
                    "is_active": request.POST.get("is_active") == "on",
                    **_limits(request),
                },
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Plan saved."))
            return redirect("billing:console_plans")
    return render(request, "billing/console/plan_edit.html", {"plan": plan})
