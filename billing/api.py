"""REST API for a company's billing (administrators): /api/v1/billing/..."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from . import gateway
from .selectors import account_for, billing_summary, plans_offered
from .services.accounts import account_add_card, account_cancel_at_period_end, account_change_plan


class BillingUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "billing_unavailable"
    default_detail = "Billing is not available right now; try again later."


class PlanOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    price_per_user = serializers.IntegerField(help_text="Monthly, in minor units (cents).")
    currency = serializers.CharField()
    trial_days = serializers.IntegerField()
    max_users = serializers.IntegerField(allow_null=True)
    max_custom_fields = serializers.IntegerField(allow_null=True)
    api_rate_per_minute = serializers.IntegerField()


class BillingInvoiceOutput(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.CharField()
    status = serializers.CharField()
    amount_due = serializers.IntegerField()
    amount_paid = serializers.IntegerField()
    currency = serializers.CharField()
    created = serializers.DateTimeField()
    url = serializers.CharField()


BillingOutput = inline_serializer(
    "Billing",
    {
        "status": serializers.CharField(),
        "trial_ends_at": serializers.DateTimeField(allow_null=True),
        "current_period_end": serializers.DateTimeField(allow_null=True),
        "cancel_at_period_end": serializers.BooleanField(),
        "grace_ends_at": serializers.DateTimeField(allow_null=True),
        "plan": inline_serializer(
            "BillingPlan",
            {
                "code": serializers.CharField(),
                "name": serializers.CharField(),
                "price_per_user": serializers.IntegerField(),
                "currency": serializers.CharField(),
                "max_users": serializers.IntegerField(allow_null=True),
            },
        ),
        "seats": inline_serializer(
            "BillingSeats",
            {
                "billable": serializers.IntegerField(),
                "free": serializers.IntegerField(),
                "charged": serializers.IntegerField(),
                "on_subscription": serializers.IntegerField(allow_null=True),
                "sync_state": serializers.CharField(),
            },
        ),
        "next_invoice": inline_serializer(
            "BillingNextInvoice",
            {
                "amount": serializers.IntegerField(),
                "currency": serializers.CharField(),
                "date": serializers.DateTimeField(allow_null=True),
            },
        ),
        "payment_method": serializers.CharField(),
        "invoices": BillingInvoiceOutput(many=True),
    },
)


def _summary(request) -> dict:
    summary = billing_summary(tenant=request.tenant)
    summary.pop("status_display", None)
    if summary.get("next_invoice"):
        summary["next_invoice"].pop("display", None)
    if summary.get("plan"):
        summary["plan"].pop("price_display", None)
    return summary


def _account(request):
    account = account_for(request.tenant)
    if account is None:
        raise BillingUnavailable("Billing is still being set up; try again in a minute.")
    return account


class _BillingApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_BILLING)]

    def handle_exception(self, exc):
        if isinstance(exc, gateway.GatewayError):
            exc = BillingUnavailable(f"Stripe: {exc}")
        return super().handle_exception(exc)


class BillingApi(_BillingApi):
    @extend_schema(responses=BillingOutput, summary="The company's plan, seats and invoices")
    def get(self, request):
        return Response(_summary(request))


class PlanListApi(_BillingApi):
    @extend_schema(responses=PlanOutput(many=True), summary="Plans the company can choose")
    def get(self, request):
        return Response(PlanOutput(plans_offered(), many=True).data)


class PlanInput(StrictInput):
    plan = serializers.SlugField(help_text="The code of an offered plan.")


class BillingPlanApi(_BillingApi):
    @extend_schema(request=PlanInput, responses=BillingOutput, summary="Change plan")
    def post(self, request):
        data = PlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = plans_offered().filter(code=data.validated_data["plan"]).first()
        if plan is None:
            raise serializers.ValidationError({"plan": ["Unknown plan."]})
        account_change_plan(account=_account(request), plan=plan)
        return Response(_summary(request))


class CancelInput(StrictInput):
    cancel_at_period_end = serializers.BooleanField()


class BillingCancelApi(_BillingApi):
    @extend_schema(
        request=CancelInput,
        responses=BillingOutput,
        summary="Cancel at the end of the period (or undo it)",
    )
    def post(self, request):
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        account_cancel_at_period_end(
            account=_account(request), cancel=data.validated_data["cancel_at_period_end"]
        )
        return Response(_summary(request))


class BillingCardApi(_BillingApi):
    @extend_schema(
        request=None,
        responses=inline_serializer(
            "BillingCard",
            {
                "url": serializers.CharField(
                    allow_null=True, help_text="Stripe's hosted page to add the card."
                ),
                "payment_method": serializers.CharField(),
            },
        ),
        summary="Add a card (returns Stripe's hosted page)",
    )
    def post(self, request):
        account = _account(request)
        return_url = request.build_absolute_uri("/settings/billing/")
        url = account_add_card(account=account, return_url=return_url)
        account.refresh_from_db()
        return Response({"url": url, "payment_method": account.payment_method})
