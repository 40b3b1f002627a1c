"""REST API of contracts: CRUD of drafts, from an accepted quote, review, terminate."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from ..models import Contract, Customer, Deal, Quote
from ..selectors.sales import sales_get, sales_queryset
from ..services import contracts as services
from .common import record_permission
from .sales_common import SalesFilters, action_api, filters_of, paged_response, service_call


class ContractOutput(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")

    class Meta:
        model = Contract
        fields = ["id", "number", "title", "status", "customer_id", "customer_name", "deal_id",
                  "quote_id", "currency", "value", "start_date", "end_date", "renewal_date",
                  "terms", "owner_id", "team_id", "activated_at", "ended_at", "created_at",
                  "updated_at"]  # fmt: skip


class ContractInput(StrictInput):
    title = serializers.CharField(max_length=200)
    customer_id = serializers.PrimaryKeyRelatedField(
        source="customer", required=False, queryset=Customer.objects.all()
    )
    deal_id = serializers.PrimaryKeyRelatedField(
        source="deal", required=False, allow_null=True, queryset=Deal.objects.all()
    )
    currency = serializers.CharField(max_length=3, required=False)
    value = serializers.DecimalField(max_digits=18, decimal_places=3, min_value=0)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    renewal_date = serializers.DateField(required=False, allow_null=True)
    terms = serializers.CharField(required=False, allow_blank=True)
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner", required=False, queryset=User.objects.all()
    )


def _contract_get(*, user, pk):
    return sales_get(Contract, user=user, pk=pk)


class ContractListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[SalesFilters], responses=ContractOutput(many=True))
    def get(self, request):
        queryset = sales_queryset(Contract, user=request.user, filters=filters_of(request))
        return paged_response(self, request, queryset, ContractOutput)

    @extend_schema(request=ContractInput, responses={201: ContractOutput})
    def post(self, request):
        data = ContractInput(data=request.data)
        data.is_valid(raise_exception=True)
        contract = service_call(
            services.contract_create, actor=request.user, data=data.validated_data
        )
        return Response(ContractOutput(contract).data, status=status.HTTP_201_CREATED)


class ContractDetailApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(responses=ContractOutput)
    def get(self, request, pk):
        return Response(ContractOutput(_contract_get(user=request.user, pk=pk)).data)

    @extend_schema(request=ContractInput, responses=ContractOutput)
    def patch(self, request, pk):
        contract = _contract_get(user=request.user, pk=pk)
        data = ContractInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        contract = service_call(
            services.contract_update,
            contract=contract,
            actor=request.user,
            data=data.validated_data,
        )
        return Response(ContractOutput(contract).data)


class FromQuoteInput(StrictInput):
    title = serializers.CharField(max_length=200, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)
    renewal_date = serializers.DateField(required=False, allow_null=True)


QuoteContractApi = action_api(
    name="QuoteContractApi",
    get=lambda user, pk: sales_get(Quote, user=user, pk=pk),
    run=lambda record, actor, **data: services.contract_from_quote(
        quote=record, actor=actor, data=data
    ),
    output=ContractOutput,
    request_serializer=FromQuoteInput,
    doc="A draft contract from an accepted quote (its customer, deal, currency and total).",
)
ContractSubmitApi = action_api(
    name="ContractSubmitApi",
    get=_contract_get,
    run=lambda record, actor: services.contract_submit_review(contract=record, actor=actor),
    output=ContractOutput,
    doc="Send a draft for review: a manager approves (active) or rejects (back to draft).",
)
ContractTerminateApi = action_api(
    name="ContractTerminateApi",
    get=_contract_get,
    run=lambda record, actor: services.contract_terminate(contract=record, actor=actor),
    output=ContractOutput,
    doc="End an active contract early.",
)
