"""REST API for duplicates: find the records a new one would duplicate; merge two."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput

from ..selectors import duplicates as selectors
from ..services import duplicates as services

TYPES = list(selectors.MODELS)


class DuplicateParams(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPES)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    exclude = serializers.IntegerField(required=False, help_text="a record's own id")


class MergeInput(StrictInput):
    type = serializers.ChoiceField(choices=TYPES)
    keep = serializers.IntegerField()
    merge = serializers.IntegerField()
    fields = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        default=dict,
        help_text='per field: "keep" or "merge" (whose value stays)',
    )


class DuplicateListApi(APIView):
    """Records the caller may see with the same e-mail, phone or normalised name."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(
        parameters=[DuplicateParams],
        responses=inline_serializer(
            "Duplicate",
            {
                "type": serializers.CharField(),
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "email": serializers.CharField(),
                "phone": serializers.CharField(),
                "owner_id": serializers.IntegerField(allow_null=True),
                "reasons": serializers.ListField(child=serializers.CharField()),
            },
            many=True,
        ),
    )
    def get(self, request):
        params = DuplicateParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return Response(
            selectors.duplicates_of(
                data["type"], data, user=request.user, exclude_pk=data.get("exclude")
            )
        )


class MergeApi(APIView):
    """Merge record `merge` into `keep`, choosing per conflicting field whose value stays;
    every relation of the merged record moves to the kept one."""

    permission_classes = [api_permission(Perm.MERGE_RECORDS)]

    @extend_schema(
        request=MergeInput,
        responses=inline_serializer(
            "MergeResult", {"type": serializers.CharField(), "id": serializers.IntegerField()}
        ),
    )
    def post(self, request):
        data = MergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        entity = data.validated_data["type"]
        # 404 unless the caller sees both records.
        selectors.merge_pair(
            user=request.user,
            entity=entity,
            keep_id=data.validated_data["keep"],
            merge_id=data.validated_data["merge"],
        )
        kept = services.record_merge(
            entity=entity,
            keep_id=data.validated_data["keep"],
            merge_id=data.validated_data["merge"],
            fields=data.validated_data["fields"],
            actor=request.user,
        )
        return Response({"type": entity, "id": kept.pk})
