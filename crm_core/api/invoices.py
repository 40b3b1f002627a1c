"""REST API of invoices (against orders, with instalments), payments, the collections
work list with ageing, and the manager's summary."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from ..models import Delivery, Invoice, Order, Payment
from ..selectors import collections as collection_selectors
from ..selectors.sales import sales_get, sales_queryset
from ..services import invoices as services
from .common import record_permission
from .sales_common import SalesFilters, action_api, filters_of, paged_response, service_call


class InstalmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    due_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=3)
    paid_amount = serializers.DecimalField(max_digits=18, decimal_places=3)


class PaymentOutput(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "received_on", "amount", "method", "reference", "unapplied_amount",
                  "recorded_by_id", "created_at"]  # fmt: skip


class InvoiceOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    balance = serializers.SerializerMethodField()
    instalments = InstalmentOutput(many=True, read_only=True)
    payments = PaymentOutput(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "status", "order_id", "delivery_id", "customer_id",
                  "customer_name", "deal_id", "currency", "issue_date", "total", "paid_amount",
                  "balance", "collections_owner_id", "owner_id", "instalments", "payments",
                  "created_at", "updated_at"]  # fmt: skip

    def get_balance(self, invoice) -> str:
        """What is still owed (negative: a credit from an over-payment)."""
        return str(invoice.total - invoice.paid_amount)


def _invoice_get(*, user, pk):
    return sales_get(Invoice, user=user, pk=pk)


class InvoiceListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[SalesFilters], responses=InvoiceOutput(many=True))
    def get(self, request):
        queryset = sales_queryset(Invoice, user=request.user, filters=filters_of(request))
        return paged_response(
            self, request, queryset.prefetch_related("instalments", "payments"), InvoiceOutput
        )


class InvoiceDetailApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(responses=InvoiceOutput)
    def get(self, request, pk):
        return Response(InvoiceOutput(_invoice_get(user=request.user, pk=pk)).data)


class PlanItemInput(StrictInput):
    due_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=3, min_value=0)


class InvoiceInput(StrictInput):
    delivery_id = serializers.PrimaryKeyRelatedField(
        source="delivery",
        required=False,
        allow_null=True,
        queryset=Delivery.objects.all(),
        help_text="Invoice one delivery's value; empty: all that is not invoiced yet.",
    )
    issue_date = serializers.DateField(required=False)
    instalments = PlanItemInput(
        many=True, required=False, help_text="Must add up to the total; empty: one instalment."
    )
    collections_owner_id = serializers.PrimaryKeyRelatedField(
        source="collections_owner", required=False, allow_null=True, queryset=User.objects.all()
    )


class OrderInvoicesApi(APIView):
    """Issue an invoice against the order (whole or per delivery) with a payment plan."""

    permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

    @extend_schema(request=InvoiceInput, responses={201: InvoiceOutput})
    def post(self, request, pk):
        order = sales_get(Order, user=request.user, pk=pk)
        data = InvoiceInput(data=request.data)
        data.is_valid(raise_exception=True)
        invoice = service_call(
            services.invoice_create, order=order, actor=request.user, **data.validated_data
        )
        return Response(InvoiceOutput(invoice).data, status=status.HTTP_201_CREATED)


InvoiceCancelApi = action_api(
    name="InvoiceCancelApi",
    get=_invoice_get,
    run=lambda record, actor: services.invoice_cancel(invoice=record, actor=actor),
    output=InvoiceOutput,
    doc="Cancel an invoice with no payments.",
)


class PaymentInput(StrictInput):
    amount = serializers.DecimalField(max_digits=18, decimal_places=3)
    received_on = serializers.DateField(required=False)
    method = serializers.ChoiceField(choices=Payment.Method.choices, required=False)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class InvoicePaymentsApi(APIView):
    """Record a payment received (partial and over-payments allowed)."""

    permission_classes = [api_permission(Perm.RECORD_PAYMENTS)]

    @extend_schema(request=PaymentInput, responses={201: InvoiceOutput})
    def post(self, request, pk):
        invoice = _invoice_get(user=request.user, pk=pk)
        data = PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        service_call(
            services.payment_record, invoice=invoice, actor=request.user, **data.validated_data
        )
        return Response(
            InvoiceOutput(_invoice_get(user=request.user, pk=pk)).data,
            status=status.HTTP_201_CREATED,
        )


class CollectionRowOutput(serializers.Serializer):
    instalment_id = serializers.IntegerField(source="instalment.pk")
    invoice_id = serializers.IntegerField(source="instalment.invoice_id")
    invoice_number = serializers.CharField(source="instalment.invoice.number")
    customer_id = serializers.IntegerField(source="instalment.invoice.customer_id")
    customer_name = serializers.CharField(source="instalment.invoice.customer.name")
    collections_owner_id = serializers.IntegerField(
        source="instalment.invoice.collections_owner_id", allow_null=True
    )
    currency = serializers.CharField(source="instalment.invoice.currency")
    due_date = serializers.DateField(source="instalment.due_date")
    owed = serializers.DecimalField(max_digits=18, decimal_places=3)
    days_overdue = serializers.IntegerField()
    bucket = serializers.CharField()


class CollectionFilters(serializers.Serializer):
    owner = serializers.RegexField(r"^(me|\d+)$", required=False)
    customer = serializers.IntegerField(required=False)
    overdue = serializers.BooleanField(required=False)


class CollectionsApi(APIView):
    """Open instalments, earliest due first, with days overdue and ageing bucket; and
    the overdue totals per currency and bucket (0-30, 31-60, 61-90, 90+)."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(
        parameters=[CollectionFilters],
        responses=inline_serializer(
            "Collections",
            {
                "rows": CollectionRowOutput(many=True),
                "ageing": serializers.DictField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request):
        filters = CollectionFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        today = timezone.localdate()
        rows = collection_selectors.collections_list(
            user=request.user, today=today, filters=filters.validated_data
        )
        ageing = collection_selectors.ageing(user=request.user, today=today)
        return Response(
            {
                "rows": CollectionRowOutput(rows, many=True).data,
                "ageing": {
                    currency: {bucket: str(amount) for bucket, amount in buckets.items()}
                    for currency, buckets in ageing.items()
                },
            }
        )


class SummaryParams(serializers.Serializer):
    by = serializers.ChoiceField(choices=["owner", "customer"], required=False)
    since = serializers.DateField(required=False)


class SalesSummaryApi(APIView):
    """Quoted, contracted, invoiced, received and overdue per rep or per customer, per
    currency."""

    permission_classes = [api_permission(Perm.VIEW_SALES_REPORTS)]

    @extend_schema(
        parameters=[SummaryParams],
        responses=inline_serializer(
            "SalesSummaryRow",
            {
                "key": serializers.IntegerField(allow_null=True),
                "name": serializers.CharField(),
                "currency": serializers.CharField(),
                **{
                    column: serializers.DecimalField(max_digits=18, decimal_places=3)
                    for column in collection_selectors.SUMMARY_COLUMNS
                },
            },
            many=True,
        ),
    )
    def get(self, request):
        params = SummaryParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = collection_selectors.sales_summary(
            user=request.user,
            by=params.validated_data.get("by", "owner"),
            since=params.validated_data.get("since"),
        )
        return Response(
            [
                {
                    "key": row.key,
                    "name": row.name,
                    "currency": row.currency,
                    **{column: str(amount) for column, amount in row.amounts.items()},
                }
                for row in rows
            ]
        )
