"""REST API of the public pool: pooled leads and customers, claim and release, the pool
settings, assignment rules and regions."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team
from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.pagination import CursorPagination
from crm_platform.kernel.serializers import StrictInput

from ..models import AssignmentRule, Region
from ..selectors import pool as selectors
from ..services import pool as services
from .customers import CustomerOutput
from .leads import LeadOutput


class PoolRow(serializers.Serializer):
    """One row of the pool (lean; built from .values()). Leads add company_name, status,
    purchase_window; customers add kind, industry, value_tier, relationship_stage."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    source = serializers.CharField()
    region_id = serializers.IntegerField(allow_null=True)
    region_name = serializers.CharField(allow_null=True)
    previous_owner_id = serializers.IntegerField(allow_null=True)
    pool_entered_at = serializers.DateTimeField(allow_null=True)
    reclaim_blocked_until = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class PoolFilters(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100)
    region = serializers.IntegerField(required=False)
    ordering = serializers.ChoiceField(choices=sorted(selectors.ORDERINGS), required=False)


class _PoolListApi(APIView):
    record_type = ""
    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(parameters=[PoolFilters], responses=PoolRow(many=True))
    def get(self, request):
        filters = PoolFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = CursorPagination()
        paginator.ordering = filters.validated_data.get("ordering", "-id")
        rows = selectors.pool_rows(
            user=request.user, record_type=self.record_type, filters=filters.validated_data
        )
        page = paginator.paginate_queryset(rows, request, view=self)
        for row in page:
            row["region_name"] = row.pop("region__name")
        return paginator.get_paginated_response(page)


class PoolLeadListApi(_PoolListApi):
    record_type = "lead"


class PoolCustomerListApi(_PoolListApi):
    record_type = "customer"


class ReleaseInput(StrictInput):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    assign = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Leaders: hand the record on by the assignment rules for its region.",
    )


class _ClaimApi(APIView):
    record_type = ""
    permission_classes = [api_permission(Perm.USE_POOL)]

    def _output(self, record):
        output = LeadOutput if self.record_type == "lead" else CustomerOutput
        return Response(output(record, context={"request": self.request}).data)

    def post(self, request, pk):
        record = selectors.pool_record_get(user=request.user, record_type=self.record_type, pk=pk)
        return self._output(services.pool_claim(record=record, actor=request.user))


class _ReleaseApi(_ClaimApi):
    def post(self, request, pk):
        record = selectors.pool_record_get(user=request.user, record_type=self.record_type, pk=pk)
        data = ReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        return self._output(
            services.pool_release(record=record, actor=request.user, **data.validated_data)
        )


class LeadClaimApi(_ClaimApi):
    """Claim a lead from the public pool (400 if taken, blocked or over a limit)."""

    record_type = "lead"

    @extend_schema(request=None, responses=LeadOutput)
    def post(self, request, pk):
        return super().post(request, pk)


class CustomerClaimApi(_ClaimApi):
    """Claim a customer from the public pool (400 if taken, blocked or over a limit)."""

    record_type = "customer"

    @extend_schema(request=None, responses=CustomerOutput)
    def post(self, request, pk):
        return super().post(request, pk)


class LeadReleaseApi(_ReleaseApi):
    """Release a lead to the public pool."""

    record_type = "lead"

    @extend_schema(request=ReleaseInput, responses=LeadOutput)
    def post(self, request, pk):
        return super().post(request, pk)


class CustomerReleaseApi(_ReleaseApi):
    """Release a customer to the public pool."""

    record_type = "customer"

    @extend_schema(request=ReleaseInput, responses=CustomerOutput)
    def post(self, request, pk):
        return super().post(request, pk)


# --- settings --------------------------------------------------------------------------


class PoolSettingsSerializer(StrictInput):
    return_after_days = serializers.IntegerField()
    warn_days_before = serializers.IntegerField()
    reclaim_block_days = serializers.IntegerField()
    daily_claim_limit = serializers.IntegerField()
    max_held = serializers.IntegerField()
    auto_return_enabled = serializers.BooleanField()


class PoolSettingsApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_POOL_RULES)]

    @extend_schema(responses=PoolSettingsSerializer)
    def get(self, request):
        return Response(PoolSettingsSerializer(services.pool_settings_get()).data)

    @extend_schema(request=PoolSettingsSerializer, responses=PoolSettingsSerializer)
    def put(self, request):
        data = PoolSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        settings = services.pool_settings_update(actor=request.user, data=data.validated_data)
        return Response(PoolSettingsSerializer(settings).data)

    patch = put


# --- assignment rules ----------------------------------------------------------------------


class AssignmentRuleInput(StrictInput):
    name = serializers.CharField(max_length=100, allow_blank=True)
    entity = serializers.ChoiceField(choices=AssignmentRule.Entity.choices)
    team_id = serializers.PrimaryKeyRelatedField(source="team", queryset=Team.objects.all())
    region_id = serializers.PrimaryKeyRelatedField(
        source="region", required=False, allow_null=True, queryset=Region.objects.all()
    )
    capacity = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    position = serializers.IntegerField(required=False, min_value=0)
    is_active = serializers.BooleanField(required=False)


class AssignmentRuleOutput(serializers.ModelSerializer):
    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "name",
            "entity",
            "team_id",
            "region_id",
            "capacity",
            "position",
            "is_active",
            "last_assigned_id",
            "created_at",
            "updated_at",
        ]


class AssignmentRuleListApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_POOL_RULES)]

    @extend_schema(responses=AssignmentRuleOutput(many=True))
    def get(self, request):
        return Response(AssignmentRuleOutput(selectors.assignment_rule_list(), many=True).data)

    @extend_schema(request=AssignmentRuleInput, responses={201: AssignmentRuleOutput})
    def post(self, request):
        data = AssignmentRuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.assignment_rule_create(actor=request.user, data=data.validated_data)
        return Response(AssignmentRuleOutput(rule).data, status=status.HTTP_201_CREATED)


class AssignmentRuleDetailApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_POOL_RULES)]

    @extend_schema(responses=AssignmentRuleOutput)
    def get(self, request, pk):
        return Response(AssignmentRuleOutput(selectors.assignment_rule_get(pk=pk)).data)

    @extend_schema(request=AssignmentRuleInput, responses=AssignmentRuleOutput)
    def patch(self, request, pk):
        rule = selectors.assignment_rule_get(pk=pk)
        data = AssignmentRuleInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = services.assignment_rule_update(
            rule=rule, actor=request.user, data=data.validated_data
        )
        return Response(AssignmentRuleOutput(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        rule = selectors.assignment_rule_get(pk=pk)
        services.assignment_rule_delete(rule=rule, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- regions ---------------------------------------------------------------------------


class RegionInput(StrictInput):
    name = serializers.CharField(max_length=100, allow_blank=True)


class RegionOutput(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "created_at", "updated_at"]


class RegionListApi(APIView):
    def get_permissions(self):
        perm = Perm.VIEW_RECORDS if self.request.method == "GET" else Perm.MANAGE_POOL_RULES
        return [api_permission(perm)()]

    @extend_schema(responses=RegionOutput(many=True))
    def get(self, request):
        return Response(RegionOutput(selectors.region_list(), many=True).data)

    @extend_schema(request=RegionInput, responses={201: RegionOutput})
    def post(self, request):
        data = RegionInput(data=request.data)
        data.is_valid(raise_exception=True)
        region = services.region_create(actor=request.user, data=data.validated_data)
        return Response(RegionOutput(region).data, status=status.HTTP_201_CREATED)


class RegionDetailApi(APIView):
    def get_permissions(self):
        perm = Perm.VIEW_RECORDS if self.request.method == "GET" else Perm.MANAGE_POOL_RULES
        return [api_permission(perm)()]

    @extend_schema(responses=RegionOutput)
    def get(self, request, pk):
        return Response(RegionOutput(selectors.region_get(pk=pk)).data)

    @extend_schema(request=RegionInput, responses=RegionOutput)
    def patch(self, request, pk):
        region = selectors.region_get(pk=pk)
        data = RegionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        region = services.region_update(region=region, actor=request.user, data=data.validated_data)
        return Response(RegionOutput(region).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        region = selectors.region_get(pk=pk)
        services.region_delete(region=region, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
