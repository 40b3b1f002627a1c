"""REST API of approval processes (admins): list, create (or install a ready template),
read, change, delete. Requests themselves are under /approvals/ (crm_core/api/approvals.py)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from . import services
from .models import ApprovalProcess


class ApprovalProcessOutput(serializers.ModelSerializer):
    class Meta:
        model = ApprovalProcess
        fields = ["id", "entity", "name", "description", "is_enabled", "disabled_reason",
                  "position", "template", "conditions", "steps", "on_approved", "on_rejected",
                  "remind_after_hours", "created_by_id", "created_at", "updated_at"]  # fmt: skip


class ApprovalProcessInput(StrictInput):
    entity = serializers.ChoiceField(choices=ApprovalProcess.Entity.choices)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    is_enabled = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False)
    remind_after_hours = serializers.IntegerField(
        required=False, help_text="remind the approvers after this many hours; 0: never"
    )
    conditions = serializers.JSONField(
        required=False,
        help_text='entry criteria: {"all"|"any": [{"field": "amount", "op": "gte", '
        '"value": 500000}, ...]}',
    )
    steps = serializers.JSONField(
        help_text='[{"name": "...", "approvers": "owner_manager"|"role:<role>"|"users", '
        '"users": [ids], "mode": "any"|"all"}, ...]'
    )
    on_approved = serializers.JSONField(required=False, help_text="workflow actions")
    on_rejected = serializers.JSONField(required=False, help_text="workflow actions")


class ApprovalTemplateInput(StrictInput):
    template = serializers.ChoiceField(choices=list(services.TEMPLATES))


class ApprovalTemplateOutput(serializers.Serializer):
    key = serializers.CharField()
    entity = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


def _processes():
    return ApprovalProcess.objects.all()


class ProcessListApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_WORKFLOWS)]

    @extend_schema(responses=ApprovalProcessOutput(many=True))
    def get(self, request):
        return Response(ApprovalProcessOutput(_processes(), many=True).data)

    @extend_schema(request=ApprovalProcessInput, responses={201: ApprovalProcessOutput})
    def post(self, request):
        data = ApprovalProcessInput(data=request.data)
        data.is_valid(raise_exception=True)
        process = services.process_create(actor=request.user, data=data.validated_data)
        return Response(ApprovalProcessOutput(process).data, status=status.HTTP_201_CREATED)


class ProcessTemplateApi(APIView):
    """The ready templates (GET), and a new process from one (POST)."""

    permission_classes = [api_permission(Perm.MANAGE_WORKFLOWS)]

    @extend_schema(responses=ApprovalTemplateOutput(many=True))
    def get(self, request):
        rows = [
            {"key": key, "entity": t["entity"], "name": t["name"], "description": t["description"]}
            for key, t in services.TEMPLATES.items()
        ]
        return Response(ApprovalTemplateOutput(rows, many=True).data)

    @extend_schema(request=ApprovalTemplateInput, responses={201: ApprovalProcessOutput})
    def post(self, request):
        data = ApprovalTemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        process = services.process_install_template(
            actor=request.user, template=data.validated_data["template"]
        )
        return Response(ApprovalProcessOutput(process).data, status=status.HTTP_201_CREATED)


class ProcessDetailApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_WORKFLOWS)]

    @extend_schema(responses=ApprovalProcessOutput)
    def get(self, request, pk):
        return Response(ApprovalProcessOutput(get_object_or_404(_processes(), pk=pk)).data)

    @extend_schema(request=ApprovalProcessInput(partial=True), responses=ApprovalProcessOutput)
    def patch(self, request, pk):
        process = get_object_or_404(_processes(), pk=pk)
        data = ApprovalProcessInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        process = services.process_update(
            process=process, actor=request.user, data=data.validated_data
        )
        return Response(ApprovalProcessOutput(process).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.process_delete(process=get_object_or_404(_processes(), pk=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
