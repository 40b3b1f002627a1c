"""REST API: rules (admins), dry run, run logs (per rule for admins; per record for
anyone who can see the record)."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.pagination import CursorPagination
from crm_platform.kernel.serializers import StrictInput

from . import selectors, services
from .models import WorkflowRule, WorkflowRun


class VersionOutput(serializers.Serializer):
    number = serializers.IntegerField()
    trigger = serializers.JSONField()
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    author = serializers.IntegerField(source="author_id", allow_null=True)
    created_at = serializers.DateTimeField()


class RuleOutput(serializers.ModelSerializer):
    version = VersionOutput(source="current_version")

    class Meta:
        model = WorkflowRule
        fields = [
            "id",
            "entity",
            "name",
            "description",
            "is_enabled",
            "disabled_reason",
            "version",
            "created_at",
            "updated_at",
        ]


class RuleInput(StrictInput):
    entity = serializers.ChoiceField(choices=WorkflowRule.Entity.choices)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    is_enabled = serializers.BooleanField(required=False)
    trigger = serializers.JSONField(
        help_text='{"type": "created"|"updated"|"field_changed"|"stage_entered"|'
        '"no_activity"|"date_relative"|"schedule", ...}'
    )
    conditions = serializers.JSONField(
        required=False,
        help_text='{"all"|"any": [{"field": "amount", "op": "gte", "value": 500000}, ...]}',
    )
    actions = serializers.JSONField(
        help_text='[{"type": "create_task"|"update_fields"|"notify"|"send_email"|'
        '"assign_owner"|"return_to_pool"|"wait", ...}]'
    )


class StepOutput(serializers.Serializer):
    index = serializers.IntegerField()
    action_type = serializers.CharField()
    status = serializers.CharField()
    detail = serializers.JSONField()
    error = serializers.CharField()
    duration_ms = serializers.FloatField(allow_null=True)
    finished_at = serializers.DateTimeField()


class RunOutput(serializers.ModelSerializer):
    rule_version = serializers.IntegerField(source="version.number")
    steps = StepOutput(many=True)

    class Meta:
        model = WorkflowRun
        fields = [
            "id",
            "rule",
            "rule_version",
            "record_type",
            "record_id",
            "event_type",
            "chain_depth",
            "status",
            "matched",
            "values_seen",
            "resume_at",
            "error",
            "created_at",
            "finished_at",
            "duration_ms",
            "steps",
        ]


class DryRunInput(StrictInput):
    record_id = serializers.IntegerField(min_value=1)


class DryRunOutput(serializers.Serializer):
    rule_version = serializers.IntegerField()
    trigger = serializers.JSONField()
    matched = serializers.BooleanField()
    values_seen = serializers.JSONField(help_text="each field the conditions read: its value")
    actions = serializers.JSONField(
        help_text="what each action would do (recipients and texts resolved); empty if "
        "the conditions are not met"
    )


class RuleListApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_WORKFLOWS)]

    @extend_schema(responses=RuleOutput(many=True))
    def get(self, request):
        return Response(RuleOutput(selectors.rule_list(), many=True).data)

    @extend_schema(request=RuleInput, responses={201: RuleOutput})
    def post(self, request):
        data = RuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.rule_create(actor=request.user, data=data.validated_data)
        return Response(
            RuleOutput(selectors.rule_get(pk=rule.pk)).data, status=status.HTTP_201_CREATED
        )


class RuleDetailApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_WORKFLOWS)]

    def _rule(self, pk):
        return get_object_or_404(selectors.rule_list(), pk=pk)

    @extend_schema(responses=RuleOutput)
    def get(self, request, pk):
        return Response(RuleOutput(self._rule(pk)).data)

    @extend_schema(request=RuleInput(partial=True), responses=RuleOutput)
    def patch(self, request, pk):
        rule = self._rule(pk)
        data = RuleInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = services.rule_update(rule=rule, actor=request.user, data=data.validated_data)
        return Response(RuleOutput(selectors.rule_get(pk=rule.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.rule_delete(rule=self._rule(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleDryRunApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_WORKFLOWS)]

    @extend_schema(request=DryRunInput, responses=DryRunOutput)
    def post(self, request, pk):
        rule = get_object_or_404(selectors.rule_list(), pk=pk)
        data = DryRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            services.rule_dry_run(
                rule=rule, record_id=data.validated_data["record_id"], actor=request.user
            )
        )


class RunListApi(APIView):
    """Admins: every run, by rule and status. Anyone: the runs on one record they can see
    (`record_type` and `record_id`)."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]
    pagination_class = CursorPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("rule", int),
            OpenApiParameter("status", str, enum=WorkflowRun.Status.values),
            OpenApiParameter("record_type", str, enum=WorkflowRule.Entity.values),
            OpenApiParameter("record_id", int),
        ],
        responses=RunOutput(many=True),
    )
    def get(self, request):
        params = request.query_params
        if params.get("record_type") or params.get("record_id"):
            try:
                record_id = int(params.get("record_id", ""))
            except ValueError:
                raise serializers.ValidationError(
                    {"record_id": ["A record id is needed with record_type."]}
                ) from None
            runs = selectors.record_runs(
                user=request.user, record_type=params.get("record_type", ""), record_id=record_id
            )
        else:
            if not has_perm(request.user, Perm.MANAGE_WORKFLOWS):
                raise PermissionDenied
            rule = None
            if params.get("rule"):
                rule = get_object_or_404(selectors.rule_list(), pk=params["rule"])
            runs = selectors.run_list(rule=rule, status=params.get("status"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunOutput(page, many=True).data)


class RunDetailApi(APIView):
    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(responses=RunOutput)
    def get(self, request, pk):
        run = get_object_or_404(selectors.run_list(), pk=pk)
        selectors.record_runs(  # the same visibility check as the record's log
            user=request.user, record_type=run.record_type, record_id=run.record_id
        )
        return Response(RunOutput(run).data)
