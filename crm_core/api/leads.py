"""REST API for leads: lean cursor-paginated list, CRUD, conversion."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput
from customization.api_support import SecuredRecordOutput

from ..models import Customer, Lead, Pipeline, Stage
from ..records import visible
from ..selectors import leads as selectors
from ..services import leads as services
from .common import OwnedRecordInput, bulk_save_api, lean_list_response, record_permission


class LeadRow(serializers.Serializer):
    """One list row (documentation of the lean list; rows are built from .values())."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    company_name = serializers.CharField()
    job_title = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    source = serializers.CharField()
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    has_money = serializers.BooleanField()
    has_authority = serializers.BooleanField()
    has_need = serializers.BooleanField()
    purchase_window = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    region_id = serializers.IntegerField(allow_null=True)
    last_activity_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LeadFilters(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100)
    owner = serializers.RegexField(
        r"^(me|pool|\d+)$", required=False, help_text='"me", "pool" or a user id'
    )
    status = serializers.ChoiceField(choices=Lead.Status.choices, required=False)
    source = serializers.CharField(required=False, max_length=100)
    purchase_window = serializers.ChoiceField(choices=Lead.PurchaseWindow.choices, required=False)
    team = serializers.IntegerField(required=False)
    region = serializers.IntegerField(required=False)
    qualified = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="money, authority and need"
    )
    ordering = serializers.ChoiceField(choices=sorted(selectors.ORDERINGS), required=False)


class LeadInput(OwnedRecordInput):
    """Parses types; the lead services validate the rules."""

    name = serializers.CharField(max_length=200, allow_blank=True)
    company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    job_title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Lead.Status.choices, required=False)
    has_money = serializers.BooleanField(required=False)
    has_authority = serializers.BooleanField(required=False)
    has_need = serializers.BooleanField(required=False)
    purchase_window = serializers.ChoiceField(
        choices=Lead.PurchaseWindow.choices, required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class LeadOutput(SecuredRecordOutput):
    owner_name = serializers.CharField(source="owner.get_full_name", default=None)

    class Meta:
        model = Lead
        fields = [
            "id",
            "name",
            "company_name",
            "job_title",
            "email",
            "phone",
            "source",
            "status",
            "has_money",
            "has_authority",
            "has_need",
            "purchase_window",
            "notes",
            "owner_id",
            "owner_name",
            "team_id",
            "region_id",
            "last_activity_at",
            "pool_entered_at",
            "previous_owner_id",
            "converted_at",
            "converted_customer_id",
            "converted_contact_id",
            "converted_deal_id",
            "created_at",
            "updated_at",
        ]


class ConvertInput(StrictInput):
    customer = serializers.PrimaryKeyRelatedField(
        required=False,
        allow_null=True,
        queryset=Customer.objects.all(),
        help_text="An existing customer to attach the lead to (default: a new one).",
    )
    create_deal = serializers.BooleanField(required=False, default=True)
    deal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    pipeline = serializers.PrimaryKeyRelatedField(
        required=False, allow_null=True, queryset=Pipeline.objects.all()
    )
    stage = serializers.PrimaryKeyRelatedField(
        required=False, allow_null=True, queryset=Stage.objects.all()
    )
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    custom_fields = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        help_text='Custom field values of the new records: {"customer": {...}, "contact": '
        '{...}, "deal": {...}}. The lead\'s values go to fields of the same API name.',
    )

    def validate_custom_fields(self, value):
        unknown = set(value) - {"customer", "contact", "deal"}
        if unknown:
            raise serializers.ValidationError(f"Unknown record: {', '.join(sorted(unknown))}.")
        return value

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is None:  # the schema generator's instance
            return
        # A customer the user cannot change reads as one that does not exist.
        self.fields["customer"].queryset = visible(Customer.objects.all(), user)


def _lean(rows):
    for row in rows:
        row["owner_name"] = row.pop("owner__full_name")
    return rows


class LeadListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[LeadFilters], responses=LeadRow(many=True))
    def get(self, request):
        return lean_list_response(
            self, request, filters_class=LeadFilters, rows=selectors.lead_rows, shape=_lean
        )

    @extend_schema(request=LeadInput, responses={201: LeadOutput})
    def post(self, request):
        data = LeadInput(data=request.data)
        data.is_valid(raise_exception=True)
        lead = services.lead_create(actor=request.user, data=data.validated_data)
        return Response(
            LeadOutput(lead, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class LeadDetailApi(APIView):
    permission_classes = [record_permission()]

    @extend_schema(responses=LeadOutput)
    def get(self, request, pk):
        return Response(
            LeadOutput(
                selectors.lead_get(user=request.user, pk=pk), context={"request": request}
            ).data
        )

    @extend_schema(request=LeadInput, responses=LeadOutput)
    def patch(self, request, pk):
        lead = selectors.lead_get(user=request.user, pk=pk)
        data = LeadInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        lead = services.lead_update(lead=lead, actor=request.user, data=data.validated_data)
        return Response(LeadOutput(lead, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        lead = selectors.lead_get(user=request.user, pk=pk)
        services.lead_delete(lead=lead, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeadConvertApi(APIView):
    """Convert a lead into a customer (or attach it to one), a contact and a deal, in one
    transaction. A second conversion is refused with 400."""

    permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

    @extend_schema(request=ConvertInput, responses=LeadOutput)
    def post(self, request, pk):
        lead = selectors.lead_get(user=request.user, pk=pk)
        data = ConvertInput(data=request.data, user=request.user)
        data.is_valid(raise_exception=True)
        lead = services.lead_convert(lead=lead, actor=request.user, **data.validated_data)
        return Response(LeadOutput(lead, context={"request": request}).data)


LeadBulkApi = bulk_save_api(
    noun="Lead",
    input_serializer=LeadInput,
    output_serializer=LeadOutput,
    save=services.lead_bulk_save,
)
