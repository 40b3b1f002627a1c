"""The company's Billing page (administrators)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm

from . import gateway
from .selectors import account_for, billing_summary, plans_offered
from .services.accounts import account_add_card, account_cancel_at_period_end, account_change_plan


def _account_or_error(request):
    account = account_for(request.tenant)
    if account is None:
        messages.error(request, _("Billing is still being set up. Try again in a minute."))
    return account


@login_required
@page_permission(Perm.MANAGE_BILLING)
def billing_page(request):
    return render(
        request,
        "billing/billing.html",
        {
            "summary": billing_summary(tenant=request.tenant),
            "plans": plans_offered(),
            "stripe_on": gateway.enabled(),
            "card_added": request.GET.get("card") == "added",
        },
    )


def _gateway_action(request, action):
    account = _account_or_error(request)
    if account is None:
        return redirect("billing_company:page")
    try:
        result = action(account)
    except gateway.GatewayError as exc:
        messages.error(request, _("Stripe could not be reached: %(error)s") % {"error": exc})
        return redirect("billing_company:page")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("billing_company:page")
    return result


@login_required
@page_permission(Perm.MANAGE_BILLING)
@require_POST
def billing_card(request):
    return_url = request.build_absolute_uri(request.path.replace("card/", ""))

    def action(account):
        url = account_add_card(account=account, return_url=return_url)
        if url:
            return redirect(url)  # Stripe's hosted card page
        messages.success(request, _("Card added. Your subscription is active."))
        return redirect("billing_company:page")

    return _gateway_action(request, action)


@login_required
@page_permission(Perm.MANAGE_BILLING)
@require_POST
def billing_plan(request):
    plan = plans_offered().filter(code=request.POST.get("plan", "")).first()
    if plan is None:
        messages.error(request, _("Choose one of the plans offered."))
        return redirect("billing_company:page")

    def action(account):
        account_change_plan(account=account, plan=plan)
        messages.success(request, _("Plan changed to %(plan)s.") % {"plan": plan.name})
        return redirect("billing_company:page")

    return _gateway_action(request, action)


@login_required
@page_permission(Perm.MANAGE_BILLING)
@require_POST
def billing_cancel(request):
    cancel = request.POST.get("cancel") != "0"

    def action(account):
        account_cancel_at_period_end(account=account, cancel=cancel)
        if cancel:
            messages.success(request, _("The subscription ends at the end of the period."))
        else:
            messages.success(request, _("The subscription continues."))
        return redirect("billing_company:page")

    return _gateway_action(request, action)
