"""REST API for deals: lean cursor-paginated list, CRUD, moving stage, stage history."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput
from customization.api_support import SecuredRecordOutput

from ..models import Contact, Customer, Deal, Pipeline, Stage
from ..selectors import deals as selectors
from ..services import deals as services
from .common import OwnedRecordInput, bulk_save_api, lean_list_response, record_permission


class DealRow(serializers.Serializer):
    """One list row (documentation of the lean list; rows are built from .values())."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    customer_id = serializers.IntegerField(allow_null=True)
    customer_name = serializers.CharField(allow_null=True)
    contact_id = serializers.IntegerField(allow_null=True)
    pipeline_id = serializers.IntegerField()
    stage_id = serializers.IntegerField()
    stage_name = serializers.CharField()
    stage_kind = serializers.ChoiceField(choices=Stage.Kind.choices)
    probability = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    expected_close_date = serializers.DateField(allow_null=True)
    lost_reason = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    region_id = serializers.IntegerField(allow_null=True)
    finder_id = serializers.IntegerField(allow_null=True)
    delivery_owner_id = serializers.IntegerField(allow_null=True)
    collections_owner_id = serializers.IntegerField(allow_null=True)
    stage_entered_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DealFilters(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100)
    pipeline = serializers.IntegerField(required=False)
    stage = serializers.IntegerField(required=False)
    owner = serializers.RegexField(r"^(me|\d+)$", required=False, help_text='"me" or a user id')
    customer = serializers.IntegerField(required=False)
    closing_after = serializers.DateField(required=False)
    closing_before = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=Stage.Kind.choices, required=False)
    ordering = serializers.ChoiceField(choices=sorted(selectors.ORDERINGS), required=False)


class DealInput(OwnedRecordInput):
    """Parses types; the deal services validate the rules (one validator for API and pages)."""

    name = serializers.CharField(max_length=200, allow_blank=True)
    customer_id = serializers.PrimaryKeyRelatedField(
        source="customer", required=False, allow_null=True, queryset=Customer.objects.all()
    )
    contact_id = serializers.PrimaryKeyRelatedField(
        source="contact", required=False, allow_null=True, queryset=Contact.objects.all()
    )
    pipeline_id = serializers.PrimaryKeyRelatedField(
        source="pipeline", required=False, queryset=Pipeline.objects.all()
    )
    stage_id = serializers.PrimaryKeyRelatedField(
        source="stage", required=False, queryset=Stage.objects.all()
    )
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0, required=False)
    currency = serializers.CharField(max_length=3, required=False)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    lost_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    # Never in the public pool: an owner, when given, cannot be empty.
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner", required=False, queryset=User.objects.all()
    )
    finder_id = serializers.PrimaryKeyRelatedField(
        source="finder", required=False, allow_null=True, queryset=User.objects.all()
    )
    delivery_owner_id = serializers.PrimaryKeyRelatedField(
        source="delivery_owner", required=False, allow_null=True, queryset=User.objects.all()
    )
    collections_owner_id = serializers.PrimaryKeyRelatedField(
        source="collections_owner", required=False, allow_null=True, queryset=User.objects.all()
    )


# Service field name -> API field name, to name the API's fields in service errors.
_API_NAMES = {
    name: f"{name}_id"
    for name in (
        "customer",
        "contact",
        "pipeline",
        "stage",
        "owner",
        "team",
        "region",
        "finder",
        "delivery_owner",
        "collections_owner",
    )
}


def _api_key(key: str) -> str:
    """A service error key in the API's words: "customer" -> "customer_id",
    "3.stage" -> "3.stage_id" (bulk items are keyed by position)."""
    prefix, _dot, field = key.rpartition(".")
    field = _API_NAMES.get(field, field)
    return f"{prefix}.{field}" if prefix else field


def _service_call(function, **kwargs):
    """Run a deal service; its ValidationError names the API's fields (customer_id...)."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise serializers.ValidationError(
            {_api_key(field): messages for field, messages in exc.message_dict.items()}
        ) from None


class DealOutput(SecuredRecordOutput):
    owner_name = serializers.CharField(source="owner.get_full_name", default=None)
    customer_name = serializers.CharField(source="customer.name", default=None)
    stage_name = serializers.CharField(source="stage.name")
    stage_kind = serializers.CharField(source="stage.kind")
    probability = serializers.IntegerField(source="stage.probability")

    class Meta:
        model = Deal
        fields = [
            "id",
            "name",
            "customer_id",
            "customer_name",
            "contact_id",
            "pipeline_id",
            "stage_id",
            "stage_name",
            "stage_kind",
            "probability",
            "amount",
            "currency",
            "expected_close_date",
            "lost_reason",
            "owner_id",
            "owner_name",
            "team_id",
            "region_id",
            "finder_id",
            "delivery_owner_id",
            "collections_owner_id",
            "stage_entered_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]


_RENAMES = {
    "customer__name": "customer_name",
    "owner__full_name": "owner_name",
    "stage__name": "stage_name",
    "stage__kind": "stage_kind",
    "stage__probability": "probability",
}


def _rename(rows):
    for row in rows:
        for old, new in _RENAMES.items():
            row[new] = row.pop(old)
        row["amount"] = str(row["amount"])
    return rows


class DealListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[DealFilters], responses=DealRow(many=True))
    def get(self, request):
        return lean_list_response(
            self, request, filters_class=DealFilters, rows=selectors.deal_rows, shape=_rename
        )

    @extend_schema(request=DealInput, responses={201: DealOutput})
    def post(self, request):
        data = DealInput(data=request.data)
        data.is_valid(raise_exception=True)
        deal = _service_call(services.deal_create, actor=request.user, data=data.validated_data)
        deal = selectors.deal_get(user=request.user, pk=deal.pk)
        return Response(
            DealOutput(deal, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class DealDetailApi(APIView):
    permission_classes = [record_permission()]

    @extend_schema(responses=DealOutput)
    def get(self, request, pk):
        return Response(
            DealOutput(
                selectors.deal_get(user=request.user, pk=pk), context={"request": request}
            ).data
        )

    @extend_schema(request=DealInput, responses=DealOutput)
    def patch(self, request, pk):
        deal = selectors.deal_get(user=request.user, pk=pk)
        data = DealInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        _service_call(services.deal_update, deal=deal, actor=request.user, data=data.validated_data)
        return Response(
            DealOutput(
                selectors.deal_get(user=request.user, pk=pk), context={"request": request}
            ).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        deal = selectors.deal_get(user=request.user, pk=pk)
        services.deal_delete(deal=deal, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


DealBulkApi = bulk_save_api(
    noun="Deal",
    input_serializer=DealInput,
    output_serializer=DealOutput,
    save=lambda **kwargs: _service_call(services.deal_bulk_save, **kwargs),
)


class MoveInput(StrictInput):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())
    lost_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DealMoveApi(APIView):
    """Move the deal to another stage of its pipeline (a lost stage needs lost_reason)."""

    permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

    @extend_schema(request=MoveInput, responses=DealOutput)
    def post(self, request, pk):
        deal = selectors.deal_get(user=request.user, pk=pk)
        data = MoveInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.deal_move_stage(
            deal=deal,
            stage=data.validated_data["stage"],
            lost_reason=data.validated_data.get("lost_reason", ""),
            actor=request.user,
        )
        return Response(
            DealOutput(
                selectors.deal_get(user=request.user, pk=pk), context={"request": request}
            ).data
        )


class DealHistoryApi(APIView):
    """The deal's stage changes, oldest first, with the seconds spent in the stage left."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(
        responses=inline_serializer(
            "DealStageChangeItem",
            {
                "from_stage_id": serializers.IntegerField(allow_null=True),
                "from_stage": serializers.CharField(allow_null=True),
                "to_stage_id": serializers.IntegerField(),
                "to_stage": serializers.CharField(),
                "changed_at": serializers.DateTimeField(),
                "changed_by": serializers.CharField(allow_null=True),
                "seconds_in_previous": serializers.IntegerField(allow_null=True),
            },
            many=True,
        )
    )
    def get(self, request, pk):
        deal = selectors.deal_get(user=request.user, pk=pk)
        return Response(
            [
                {
                    "from_stage_id": change.from_stage_id,
                    "from_stage": change.from_stage.name if change.from_stage else None,
                    "to_stage_id": change.to_stage_id,
                    "to_stage": change.to_stage.name,
                    "changed_at": change.changed_at,
                    "changed_by": str(change.changed_by) if change.changed_by else None,
                    "seconds_in_previous": change.seconds_in_previous,
                }
                for change in selectors.deal_stage_history(deal=deal)
            ]
        )
