"""REST API of quotes (lines, totals, versions, the PDF)."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from ..api.common import record_permission
from ..models import Contact, Customer, Deal, PriceList, Product, Quote
from ..selectors.sales import sales_get, sales_queryset
from ..services import quotes as services
from ..services.quote_pdf import quote_pdf, quote_pdf_filename
from .sales_common import SalesFilters, action_api, filters_of, paged_response, service_call


class LineOutput(serializers.Serializer):
    position = serializers.IntegerField()
    product_id = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=3)
    discount_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    tax_rate = serializers.DecimalField(max_digits=7, decimal_places=4)
    net_amount = serializers.DecimalField(max_digits=18, decimal_places=3)


class LineInput(StrictInput):
    product_id = serializers.PrimaryKeyRelatedField(
        source="product", required=False, allow_null=True, queryset=Product.objects.all()
    )
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit_price = serializers.DecimalField(
        max_digits=18, decimal_places=3, required=False, allow_null=True,
        help_text="Empty: the product's price in the quote's price list.",
    )  # fmt: skip
    discount_percent = serializers.DecimalField(max_digits=7, decimal_places=4, required=False)
    tax_rate = serializers.DecimalField(
        max_digits=7, decimal_places=4, required=False, help_text="Empty: the company default."
    )


class QuoteOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    lines = LineOutput(many=True, read_only=True)

    class Meta:
        model = Quote
        fields = ["id", "number", "version", "is_current", "previous_id", "status",
                  "customer_id", "customer_name", "deal_id", "contact_id", "price_list_id",
                  "currency", "language", "valid_until", "total_discount_percent",
                  "gross_amount", "subtotal", "total_discount", "tax_amount", "total",
                  "effective_discount_percent", "terms", "owner_id", "team_id", "sent_at",
                  "sent_to", "decided_at", "lines", "created_at", "updated_at"]  # fmt: skip


class QuoteInput(StrictInput):
    customer_id = serializers.PrimaryKeyRelatedField(
        source="customer", required=False, queryset=Customer.objects.all()
    )
    deal_id = serializers.PrimaryKeyRelatedField(
        source="deal", required=False, allow_null=True, queryset=Deal.objects.all()
    )
    contact_id = serializers.PrimaryKeyRelatedField(
        source="contact", required=False, allow_null=True, queryset=Contact.objects.all()
    )
    price_list_id = serializers.PrimaryKeyRelatedField(
        source="price_list", required=False, allow_null=True, queryset=PriceList.objects.all()
    )
    currency = serializers.CharField(max_length=3, required=False)
    language = serializers.ChoiceField(choices=Quote.Language.choices, required=False)
    valid_until = serializers.DateField(required=False, allow_null=True)
    total_discount_percent = serializers.DecimalField(
        max_digits=7, decimal_places=4, required=False
    )
    terms = serializers.CharField(required=False, allow_blank=True)
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner", required=False, queryset=User.objects.all()
    )
    lines = LineInput(many=True, required=False)


def _quote_get(*, user, pk):
    return sales_get(Quote, user=user, pk=pk)


class QuoteListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[SalesFilters], responses=QuoteOutput(many=True))
    def get(self, request):
        queryset = sales_queryset(Quote, user=request.user, filters=filters_of(request))
        return paged_response(self, request, queryset.prefetch_related("lines"), QuoteOutput)

    @extend_schema(request=QuoteInput, responses={201: QuoteOutput})
    def post(self, request):
        data = QuoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        quote = service_call(services.quote_create, actor=request.user, data=data.validated_data)
        return Response(QuoteOutput(quote).data, status=status.HTTP_201_CREATED)


class QuoteDetailApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(responses=QuoteOutput)
    def get(self, request, pk):
        return Response(QuoteOutput(_quote_get(user=request.user, pk=pk)).data)

    @extend_schema(request=QuoteInput, responses=QuoteOutput)
    def patch(self, request, pk):
        quote = _quote_get(user=request.user, pk=pk)
        data = QuoteInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        quote = service_call(
            services.quote_update, quote=quote, actor=request.user, data=data.validated_data
        )
        return Response(QuoteOutput(quote).data)


class QuotePdfApi(APIView):
    """The quote as a PDF in its language."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        quote = _quote_get(user=request.user, pk=pk)
        response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{quote_pdf_filename(quote)}"'
        return response


class SendInput(StrictInput):
    to = serializers.EmailField(
        required=False, allow_blank=True, help_text="Empty: the contact's or customer's e-mail."
    )


QuoteSubmitApi = action_api(
    name="QuoteSubmitApi",
    get=_quote_get,
    run=lambda record, actor: services.quote_submit(quote=record, actor=actor),
    output=QuoteOutput,
    doc="Finish a draft: approved at once, or pending approval when its discount is above "
    "the company's limit.",
)
QuoteSendApi = action_api(
    name="QuoteSendApi",
    get=_quote_get,
    run=lambda record, actor, to="": services.quote_send(quote=record, actor=actor, to=to),
    output=QuoteOutput,
    request_serializer=SendInput,
    doc="E-mail the quote's PDF. Refused (400, field status) while its discount waits for "
    "approval.",
)
QuoteAcceptApi = action_api(
    name="QuoteAcceptApi",
    get=_quote_get,
    run=lambda record, actor: services.quote_answer(quote=record, actor=actor, accepted=True),
    output=QuoteOutput,
    doc="The customer accepted the sent quote.",
)
QuoteRejectApi = action_api(
    name="QuoteRejectApi",
    get=_quote_get,
    run=lambda record, actor: services.quote_answer(quote=record, actor=actor, accepted=False),
    output=QuoteOutput,
    doc="The customer rejected the sent quote.",
)
QuoteReviseApi = action_api(
    name="QuoteReviseApi",
    get=_quote_get,
    run=lambda record, actor: services.quote_revise(quote=record, actor=actor),
    output=QuoteOutput,
    doc="A new draft version of the quote (same number, version + 1).",
)
