"""REST API for imports: upload a file (the job runs in Celery), poll it, get its errors."""

import csv
import io
import json

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm

from ..models import ImportJob
from ..selectors import imports as selectors
from ..services import imports as services


class ImportInput(serializers.Serializer):
    file = serializers.FileField()
    entity = serializers.ChoiceField(choices=ImportJob.Entity.choices)
    mapping = serializers.CharField(
        required=False, help_text='JSON: {"column header": "field"}; guessed when absent'
    )
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, default="all_or_nothing")
    dedupe = serializers.ChoiceField(choices=ImportJob.Dedupe.choices, default="skip")
    dry_run = serializers.BooleanField(default=False)

    def validate_mapping(self, value):
        try:
            mapping = json.loads(value)
        except ValueError:
            raise serializers.ValidationError("Not valid JSON.") from None
        if not isinstance(mapping, dict):
            raise serializers.ValidationError('An object: {"column header": "field"}.')
        return mapping


ERRORS_IN_DETAIL = 1000  # every error is in errors.csv


class ImportOutput(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    errors_truncated = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "entity",
            "file_name",
            "mapping",
            "mode",
            "dedupe",
            "dry_run",
            "status",
            "progress",
            "total_rows",
            "processed_rows",
            "created_rows",
            "updated_rows",
            "skipped_rows",
            "error_rows",
            "errors",
            "errors_truncated",
            "created_by_id",
            "created_at",
            "finished_at",
        ]

    def get_progress(self, job) -> int:
        return selectors.import_progress(job)

    def get_errors(self, job) -> list[dict]:
        """[{"row", "field", "message"}], the first ERRORS_IN_DETAIL of them."""
        return job.errors[:ERRORS_IN_DETAIL]

    def get_errors_truncated(self, job) -> bool:
        return len(job.errors) > ERRORS_IN_DETAIL


class ImportSummary(ImportOutput):
    """A job in the list: its counters without the row errors."""

    class Meta(ImportOutput.Meta):
        fields = [f for f in ImportOutput.Meta.fields if f not in ("errors", "errors_truncated")]


class ImportListApi(APIView):
    permission_classes = [api_permission(Perm.IMPORT_RECORDS)]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=ImportSummary(many=True))
    def get(self, request):
        """The caller's 50 latest jobs (an administrator's: everyone's)."""
        jobs = selectors.import_jobs_for(request.user).defer("errors")[:50]
        return Response(ImportSummary(jobs, many=True).data)

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={201: ImportOutput})
    def post(self, request):
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        job = services.import_job_create(
            actor=request.user,
            entity=data.validated_data["entity"],
            file_name=upload.name,
            data=upload.read(),
            mapping=data.validated_data.get("mapping"),
            mode=data.validated_data["mode"],
            dedupe=data.validated_data["dedupe"],
            dry_run=data.validated_data["dry_run"],
        )
        return Response(ImportOutput(job).data, status=status.HTTP_201_CREATED)


class ImportDetailApi(APIView):
    permission_classes = [api_permission(Perm.IMPORT_RECORDS)]

    @extend_schema(responses=ImportOutput)
    def get(self, request, pk):
        return Response(ImportOutput(selectors.import_job_get(user=request.user, pk=pk)).data)


class ImportErrorsCsvApi(APIView):
    """Every row error of a job as CSV: row, field, message."""

    permission_classes = [api_permission(Perm.IMPORT_RECORDS)]

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, pk):
        job = selectors.import_job_get(user=request.user, pk=pk)
        return errors_csv_response(job)


def errors_csv_response(job: ImportJob) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads the Chinese and Japanese messages as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(["row", "field", "message"])
    for error in job.errors:
        writer.writerow([error.get("row") or "", error.get("field", ""), error.get("message", "")])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
