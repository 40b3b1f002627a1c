"""REST API of orders: from a quote or a contract, deliveries, cancelling."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from ..models import Contract, Delivery, Order, Quote
from ..selectors.sales import sales_get, sales_queryset
from ..services import orders as services
from .common import record_permission
from .quotes import LineOutput
from .sales_common import SalesFilters, action_api, filters_of, paged_response, service_call


class OrderLineOutput(LineOutput):
    id = serializers.IntegerField()
    delivered_quantity = serializers.DecimalField(max_digits=14, decimal_places=3)


class DeliveryOutput(serializers.ModelSerializer):
    lines = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "delivered_on", "note", "lines", "created_at"]

    def get_lines(self, delivery) -> list[dict]:
        return [
            {"order_line_id": line.order_line_id, "quantity": str(line.quantity)}
            for line in delivery.lines.all()
        ]


class OrderOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    lines = OrderLineOutput(many=True, read_only=True)
    deliveries = DeliveryOutput(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "status", "customer_id", "customer_name", "deal_id",
                  "contract_id", "quote_id", "currency", "total_discount_percent", "subtotal",
                  "total_discount", "tax_amount", "total", "owner_id", "team_id", "lines",
                  "deliveries", "created_at", "updated_at"]  # fmt: skip


def _order_get(*, user, pk):
    return sales_get(Order, user=user, pk=pk)


class OrderListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[SalesFilters], responses=OrderOutput(many=True))
    def get(self, request):
        queryset = sales_queryset(Order, user=request.user, filters=filters_of(request))
        return paged_response(
            self, request, queryset.prefetch_related("lines", "deliveries__lines"), OrderOutput
        )


class OrderDetailApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(responses=OrderOutput)
    def get(self, request, pk):
        return Response(OrderOutput(_order_get(user=request.user, pk=pk)).data)


QuoteOrderApi = action_api(
    name="QuoteOrderApi",
    get=lambda user, pk: sales_get(Quote, user=user, pk=pk),
    run=lambda record, actor: services.order_from_quote(quote=record, actor=actor),
    output=OrderOutput,
    doc="An order with the lines of an accepted quote.",
)
ContractOrderApi = action_api(
    name="ContractOrderApi",
    get=lambda user, pk: sales_get(Contract, user=user, pk=pk),
    run=lambda record, actor: services.order_from_contract(contract=record, actor=actor),
    output=OrderOutput,
    doc="An order from an active contract (its quote's lines, or one line of its value).",
)
OrderCancelApi = action_api(
    name="OrderCancelApi",
    get=_order_get,
    run=lambda record, actor: services.order_cancel(order=record, actor=actor),
    output=OrderOutput,
    doc="Cancel an order with no deliveries and no open invoices.",
)


class DeliveryLineInput(StrictInput):
    order_line_id = serializers.IntegerField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0)


class DeliveryInput(StrictInput):
    delivered_on = serializers.DateField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    lines = DeliveryLineInput(many=True)


class OrderDeliveriesApi(APIView):
    """Record a (partial) delivery of the order's lines."""

    permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

    @extend_schema(request=DeliveryInput, responses={201: OrderOutput})
    def post(self, request, pk):
        order = _order_get(user=request.user, pk=pk)
        data = DeliveryInput(data=request.data)
        data.is_valid(raise_exception=True)
        service_call(
            services.delivery_record,
            order=order,
            actor=request.user,
            quantities={
                line["order_line_id"]: line["quantity"] for line in data.validated_data["lines"]
            },
            delivered_on=data.validated_data.get("delivered_on"),
            note=data.validated_data.get("note", ""),
        )
        return Response(OrderOutput(_order_get(user=request.user, pk=pk)).data, status=201)
