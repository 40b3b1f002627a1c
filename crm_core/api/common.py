"""What the CRM's record APIs share: method permissions, lean list pages, bulk saves."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, User
from accounts.permissions import api_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.lean_rows import lean
from crm_platform.kernel.pagination import CursorPagination
from crm_platform.kernel.serializers import StrictInput
from customization.api_support import CustomFieldsInput, list_query, secured_rows

from ..models import Region
from ..services.bulk import MAX_BULK


def record_permission(*, delete: str = Perm.DELETE_RECORDS) -> type[BasePermission]:
    """Reads need VIEW_RECORDS, DELETE needs `delete`, other writes CHANGE_RECORDS.
    (Which records are reachable is decided by the selectors' visibility.)"""

    class RecordPermission(BasePermission):
        def has_permission(self, request, view):
            if request.method in SAFE_METHODS:
                return has_perm(request.user, Perm.VIEW_RECORDS)
            perm = delete if request.method == "DELETE" else Perm.CHANGE_RECORDS
            return has_perm(request.user, perm)

    return RecordPermission


def bulk_save_api(
    *,
    noun: str,
    input_serializer: type[serializers.Serializer],
    output_serializer: type[serializers.Serializer],
    save: Callable[..., list],
) -> type[APIView]:
    """POST {"items": [...]}: create (no "id") or update (with "id") up to 100 records,
    all or nothing; errors are keyed "<position>.<field>"."""

    class BulkApi(APIView):
        permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

        @extend_schema(
            request=inline_serializer(
                f"{noun}Bulk",
                {
                    "items": serializers.ListField(
                        child=serializers.DictField(), max_length=MAX_BULK
                    )
                },
            ),
            responses={200: output_serializer(many=True)},
        )
        def post(self, request):
            items = request.data.get("items") if isinstance(request.data, dict) else None
            if not isinstance(items, list):
                raise serializers.ValidationError({"items": ["A list of records."]})
            if len(items) > MAX_BULK:
                raise serializers.ValidationError({"items": ["At most 100 records at once."]})
            parsed, errors = [], {}
            for index, item in enumerate(items):
                item = dict(item) if isinstance(item, dict) else {}
                pk = item.pop("id", None)
                data = input_serializer(data=item, partial=pk is not None)
                if data.is_valid():
                    parsed.append({**data.validated_data, **({"id": pk} if pk else {})})
                else:
                    errors.update(
                        {f"{index}.{field}": messages for field, messages in data.errors.items()}
                    )
            if errors:
                raise serializers.ValidationError(errors)
            return Response(
                output_serializer(
                    save(actor=request.user, items=parsed), many=True, context={"request": request}
                ).data
            )

    BulkApi.__name__ = BulkApi.__qualname__ = f"{noun}BulkApi"
    BulkApi.__doc__ = bulk_save_api.__doc__
    return BulkApi


# Query parameters the paginator reads itself (a serializer's validation costs ~0.7 ms).
PAGINATION_PARAMS = {"cursor", "page_size"}


def lean_list_response(
    view,
    request,
    *,
    filters_class: type[serializers.Serializer],
    rows: Callable,
    shape: Callable[[list], list],
) -> Response:
    """One page of a lean list: validated filters -> rows(user=, filters=) (a .values()
    queryset, evaluated through kernel.lean_rows) -> a cursor page -> shape(rows).
    Non-unique orderings get "-id" as the tie-breaker so cursors stay stable. Field
    filters and orderings on any standard or custom field
    (customization.api_support.ListQuery) and the reader's field security apply to every
    lean list."""
    values, errors = {}, {}
    params = request.query_params
    query = None
    if set(params) - PAGINATION_PARAMS:  # nothing to validate otherwise
        # Field filters (`f.<field>[.<op>]`) and field orderings (standard or custom)
        # are customization's; the rest is the entity's own filters.
        query, params = list_query(filters_class, params, user=request.user)
        filters = filters_class(data=params)
        if filters.is_valid():
            values = filters.validated_data
        errors = dict(filters.errors)
    ordering = values.get("ordering", "-id")
    paginator = CursorPagination()
    paginator.ordering = ordering if ordering.lstrip("-") == "id" else (ordering, "-id")
    queryset = lean(rows(user=request.user, filters=values))  # SQL compiled once per shape
    if query is not None:
        try:
            queryset = query.apply(queryset)
        except DjangoValidationError as exc:
            errors.update(exc.message_dict)
        paginator.ordering = query.ordering or paginator.ordering
    if errors:  # every bad parameter named at once
        raise serializers.ValidationError(errors)
    page = paginator.paginate_queryset(queryset, request, view=view)
    response = paginator.get_paginated_response(
        secured_rows(request.user, queryset.model, shape(page))
    )
    if query is not None and query.ordering:
        for row in response.data["results"]:
            row.pop("sort_key", None)  # the cursors' position, read by the links above
    return response


class OwnedRecordInput(CustomFieldsInput, StrictInput):
    """The owner, team and region every owned record's input takes (ids), and its
    custom fields."""

    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner", required=False, allow_null=True, queryset=User.objects.all()
    )
    team_id = serializers.PrimaryKeyRelatedField(
        source="team", required=False, allow_null=True, queryset=Team.objects.all()
    )
    region_id = serializers.PrimaryKeyRelatedField(
        source="region", required=False, allow_null=True, queryset=Region.objects.all()
    )
