"""REST API for pipelines and their stages (read: VIEW_RECORDS; change: MANAGE_PIPELINES)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from ..models import Pipeline, Stage
from ..selectors import pipelines as selectors
from ..services import pipelines as services


def _permissions(request):
    perm = Perm.VIEW_RECORDS if request.method == "GET" else Perm.MANAGE_PIPELINES
    return [api_permission(perm)()]


class StageOutput(serializers.ModelSerializer):
    pipeline = serializers.IntegerField(source="pipeline_id")

    class Meta:
        model = Stage
        fields = ["id", "pipeline", "name", "position", "probability", "kind"]


class PipelineOutput(serializers.ModelSerializer):
    stages = StageOutput(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "is_default", "position", "stages"]


class PipelineInput(StrictInput):
    name = serializers.CharField(max_length=100, allow_blank=True)
    is_default = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10_000)


class StageInput(StrictInput):
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all())
    name = serializers.CharField(max_length=100, allow_blank=True)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10_000)
    probability = serializers.IntegerField(required=False, min_value=0, max_value=100)
    kind = serializers.ChoiceField(choices=Stage.Kind.choices, required=False)


class StageFilters(serializers.Serializer):
    pipeline = serializers.IntegerField(required=False)


class PipelineListApi(APIView):
    pagination_class = None

    def get_permissions(self):
        return _permissions(self.request)

    @extend_schema(responses=PipelineOutput(many=True))
    def get(self, request):
        return Response(PipelineOutput(selectors.pipeline_list(), many=True).data)

    @extend_schema(request=PipelineInput, responses={201: PipelineOutput})
    def post(self, request):
        data = PipelineInput(data=request.data)
        data.is_valid(raise_exception=True)
        pipeline = services.pipeline_create(actor=request.user, data=data.validated_data)
        return Response(
            PipelineOutput(selectors.pipeline_get(pk=pipeline.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class PipelineDetailApi(APIView):
    def get_permissions(self):
        return _permissions(self.request)

    @extend_schema(responses=PipelineOutput)
    def get(self, request, pk):
        return Response(PipelineOutput(selectors.pipeline_get(pk=pk)).data)

    @extend_schema(request=PipelineInput, responses=PipelineOutput)
    def patch(self, request, pk):
        pipeline = selectors.pipeline_get(pk=pk)
        data = PipelineInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.pipeline_update(pipeline=pipeline, actor=request.user, data=data.validated_data)
        return Response(PipelineOutput(selectors.pipeline_get(pk=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.pipeline_delete(pipeline=selectors.pipeline_get(pk=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StageListApi(APIView):
    def get_permissions(self):
        return _permissions(self.request)

    @extend_schema(parameters=[StageFilters], responses=StageOutput(many=True))
    def get(self, request):
        filters = StageFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        stages = selectors.stage_list(pipeline_id=filters.validated_data.get("pipeline"))
        return Response(StageOutput(stages, many=True).data)

    @extend_schema(request=StageInput, responses={201: StageOutput})
    def post(self, request):
        data = StageInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        pipeline = values.pop("pipeline")
        stage = services.stage_create(pipeline=pipeline, actor=request.user, data=values)
        return Response(StageOutput(stage).data, status=status.HTTP_201_CREATED)


class StageDetailApi(APIView):
    def get_permissions(self):
        return _permissions(self.request)

    @extend_schema(responses=StageOutput)
    def get(self, request, pk):
        return Response(StageOutput(selectors.stage_get(pk=pk)).data)

    @extend_schema(request=StageInput, responses=StageOutput)
    def patch(self, request, pk):
        stage = selectors.stage_get(pk=pk)
        data = StageInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "pipeline" in values and values.pop("pipeline") != stage.pipeline:
            raise serializers.ValidationError(
                {"pipeline": [_("A stage cannot move to another pipeline.")]}
            )
        stage = services.stage_update(stage=stage, actor=request.user, data=values)
        return Response(StageOutput(stage).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.stage_delete(stage=selectors.stage_get(pk=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
