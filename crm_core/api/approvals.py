"""REST API of approval requests: list, read, submit a record, decide, withdraw."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from ..models import ApprovalDecision, ApprovalRequest
from ..records import visible
from ..services import approvals as services
from .sales_common import paged_response, service_call


class ApprovalDecisionOutput(serializers.ModelSerializer):
    class Meta:
        model = ApprovalDecision
        fields = ["step_index", "user_id", "approved", "comment", "created_at"]


class ApprovalOutput(serializers.ModelSerializer):
    can_decide = serializers.SerializerMethodField()
    decisions = ApprovalDecisionOutput(many=True, read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = ["id", "record_type", "record_id", "rule", "process_id", "reason", "status",
                  "requested_by_id", "steps", "step_index", "approver_ids", "decisions",
                  "decided_by_id", "decided_at", "comment", "outcome", "can_decide",
                  "created_at"]  # fmt: skip

    def get_can_decide(self, request) -> bool:
        return services.approval_can_decide(self.context["user"], request)


def _output(request, approval):
    return Response(ApprovalOutput(approval, context={"user": request.user}).data)


class ApprovalListApi(APIView):
    """Approval requests the user may see (?status=pending for the open ones;
    ?record_type=deal&record_id=5 for one record's history)."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(responses=ApprovalOutput(many=True))
    def get(self, request):
        queryset = services.approvals_visible(request.user).prefetch_related("decisions")
        for key in ("status", "record_type", "record_id"):
            if wanted := request.query_params.get(key):
                if key == "record_id" and not wanted.isdigit():
                    raise serializers.ValidationError({"record_id": ["A whole number."]})
                queryset = queryset.filter(**{key: wanted})
        return paged_response(
            self,
            request,
            queryset.order_by("-id"),
            lambda rows, many: ApprovalOutput(rows, many=many, context={"user": request.user}),
        )


def _approval_get(*, user, pk):
    return get_object_or_404(services.approvals_visible(user), pk=pk)


class ApprovalDetailApi(APIView):
    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(responses=ApprovalOutput)
    def get(self, request, pk):
        return _output(request, _approval_get(user=request.user, pk=pk))


class ApprovalSubmitInput(StrictInput):
    record_type = serializers.ChoiceField(choices=["customer", "contact", "lead", "deal"])
    record_id = serializers.IntegerField(min_value=1)
    process_id = serializers.IntegerField(min_value=1, required=False)


class ApprovalSubmitApi(APIView):
    """Send a record into an approval process: the given one, else the first whose entry
    criteria the record meets. The record is locked until it is decided or withdrawn.
    (Quotes are submitted with POST /quotes/<id>/submit/.)"""

    permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

    @extend_schema(request=ApprovalSubmitInput, responses={201: ApprovalOutput})
    def post(self, request):
        from customization.approvals.models import ApprovalProcess
        from customization.approvals.services import approval_submit
        from customization.workflows.entities import ENTITIES

        data = ApprovalSubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        record_type = data.validated_data["record_type"]
        model = ENTITIES[record_type].model
        record = (
            visible(model.objects.all(), request.user)
            .filter(pk=data.validated_data["record_id"])
            .first()
        )
        if record is None:
            raise serializers.ValidationError({"record_id": ["No such record."]})
        process = None
        if "process_id" in data.validated_data:
            process = ApprovalProcess.objects.filter(pk=data.validated_data["process_id"]).first()
            if process is None:
                raise serializers.ValidationError({"process_id": ["No such approval process."]})
        approval = service_call(
            approval_submit,
            record_type=record_type,
            record=record,
            actor=request.user,
            process=process,
        )
        response = _output(request, approval)
        response.status_code = 201
        return response


class ApprovalDecisionInput(StrictInput):
    approve = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ApprovalDecideApi(APIView):
    """Approve or reject the current step (a rejection needs a comment). Decided by the
    step's approvers (any one or all), or an administrator; never one's own request."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(request=ApprovalDecisionInput, responses=ApprovalOutput)
    def post(self, request, pk):
        approval = _approval_get(user=request.user, pk=pk)
        data = ApprovalDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        approval = service_call(
            services.approval_decide, request=approval, actor=request.user, **data.validated_data
        )
        return _output(request, approval)


class ApprovalWithdrawApi(APIView):
    """The requester (or an administrator) takes a pending request back."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(request=None, responses=ApprovalOutput)
    def post(self, request, pk):
        approval = _approval_get(user=request.user, pk=pk)
        approval = service_call(services.approval_withdraw, request=approval, actor=request.user)
        return _output(request, approval)
