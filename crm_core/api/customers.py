"""REST API for customers: lean cursor-paginated list, CRUD, bulk, timeline."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput
from customization.api_support import SecuredRecordOutput

from ..models import Customer
from ..selectors import customers as selectors
from ..services import customers as services
from .common import OwnedRecordInput, bulk_save_api, lean_list_response, record_permission


class CustomerRow(serializers.Serializer):
    """One list row (documentation of the lean list; rows are built from .values())."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Customer.Kind.choices)
    industry = serializers.CharField()
    source = serializers.CharField()
    relationship_stage = serializers.ChoiceField(choices=Customer.RelationshipStage.choices)
    lifecycle_stage = serializers.CharField()
    value_tier = serializers.CharField()
    is_key_account = serializers.BooleanField()
    email = serializers.CharField()
    phone = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    region_id = serializers.IntegerField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    last_activity_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CustomerFilters(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100)
    owner = serializers.RegexField(
        r"^(me|pool|\d+)$", required=False, help_text='"me", "pool" or a user id'
    )
    team = serializers.IntegerField(required=False)
    region = serializers.IntegerField(required=False)
    kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)
    relationship_stage = serializers.ChoiceField(
        choices=Customer.RelationshipStage.choices, required=False
    )
    lifecycle_stage = serializers.ChoiceField(
        choices=Customer.LifecycleStage.choices, required=False
    )
    value_tier = serializers.ChoiceField(choices=Customer.ValueTier.choices, required=False)
    is_key_account = serializers.BooleanField(required=False, allow_null=True, default=None)
    tag = serializers.CharField(required=False, max_length=50)
    ordering = serializers.ChoiceField(choices=sorted(selectors.ORDERINGS), required=False)


class AddressSerializer(StrictInput):
    kind = serializers.ChoiceField(
        choices=["billing", "shipping", "office", "other"], required=False
    )
    line1 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    line2 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    city = serializers.CharField(required=False, allow_blank=True, max_length=100)
    region = serializers.CharField(required=False, allow_blank=True, max_length=100)
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=20)
    country = serializers.CharField(required=False, allow_blank=True, max_length=100)


class CustomerInput(OwnedRecordInput):
    """Parses types; the service validates the rules (one validator for API and pages)."""

    kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)
    name = serializers.CharField(max_length=200, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    relationship_stage = serializers.ChoiceField(
        choices=Customer.RelationshipStage.choices, required=False
    )
    lifecycle_stage = serializers.ChoiceField(
        choices=Customer.LifecycleStage.choices, required=False, allow_blank=True
    )
    value_tier = serializers.ChoiceField(
        choices=Customer.ValueTier.choices, required=False, allow_blank=True
    )
    is_key_account = serializers.BooleanField(required=False)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    addresses = AddressSerializer(many=True, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class CustomerOutput(SecuredRecordOutput):
    owner_name = serializers.CharField(source="owner.get_full_name", default=None)

    class Meta:
        model = Customer
        fields = [
            "id",
            "kind",
            "name",
            "industry",
            "source",
            "relationship_stage",
            "lifecycle_stage",
            "value_tier",
            "is_key_account",
            "email",
            "phone",
            "website",
            "birthday",
            "addresses",
            "tags",
            "notes",
            "owner_id",
            "owner_name",
            "team_id",
            "region_id",
            "last_activity_at",
            "pool_entered_at",
            "created_at",
            "updated_at",
        ]


def _rename_owner(rows):
    for row in rows:
        row["owner_name"] = row.pop("owner__full_name")
    return rows


class CustomerListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[CustomerFilters], responses=CustomerRow(many=True))
    def get(self, request):
        return lean_list_response(
            self,
            request,
            filters_class=CustomerFilters,
            rows=selectors.customer_rows,
            shape=_rename_owner,
        )

    @extend_schema(request=CustomerInput, responses={201: CustomerOutput})
    def post(self, request):
        data = CustomerInput(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, data=data.validated_data)
        return Response(
            CustomerOutput(customer, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class CustomerDetailApi(APIView):
    permission_classes = [record_permission()]

    @extend_schema(responses=CustomerOutput)
    def get(self, request, pk):
        return Response(
            CustomerOutput(
                selectors.customer_get(user=request.user, pk=pk), context={"request": request}
            ).data
        )

    @extend_schema(request=CustomerInput, responses=CustomerOutput)
    def patch(self, request, pk):
        customer = selectors.customer_get(user=request.user, pk=pk)
        data = CustomerInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        customer = services.customer_update(
            customer=customer, actor=request.user, data=data.validated_data
        )
        return Response(CustomerOutput(customer, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        customer = selectors.customer_get(user=request.user, pk=pk)
        services.customer_delete(customer=customer, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


CustomerBulkApi = bulk_save_api(
    noun="Customer",
    input_serializer=CustomerInput,
    output_serializer=CustomerOutput,
    save=services.customer_bulk_save,
)


class CustomerTimelineApi(APIView):
    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, required=False)],
        responses=inline_serializer(
            "TimelineItem",
            {
                "at": serializers.DateTimeField(),
                "type": serializers.CharField(),
                "kind": serializers.CharField(),
                "title": serializers.CharField(),
                "by": serializers.CharField(allow_null=True),
                "id": serializers.IntegerField(),
            },
            many=True,
        ),
    )
    def get(self, request, pk):
        customer = selectors.customer_get(user=request.user, pk=pk)
        items = selectors.customer_timeline(customer=customer)
        return Response(
            [
                {
                    "at": i["at"],
                    "type": i["type"],
                    "kind": i["kind"],
                    "title": i["title"],
                    "by": str(i["by"]) if i["by"] else None,
                    "id": i["object"].pk,
                }
                for i in items
            ]
        )
