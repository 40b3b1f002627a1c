"""What the lead-to-cash APIs share: service errors in the API's field names, paged
lists of visible documents, list filters, a POST-an-action view."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.pagination import CursorPagination

# Service field names that the API calls "<name>_id".
RELATIONS = {
    "customer",
    "deal",
    "contact",
    "price_list",
    "product",
    "owner",
    "quote",
    "contract",
    "order",
    "delivery",
    "collections_owner",
    "invoice",
}


def _api_key(key: str) -> str:
    prefix, _dot, field = key.rpartition(".")
    field = f"{field}_id" if field in RELATIONS else field
    return f"{prefix}.{field}" if prefix else field


def service_call(function: Callable, **kwargs):
    """Run a service; its ValidationError names the API's fields (customer_id...)."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise serializers.ValidationError(
            {_api_key(field): messages for field, messages in exc.message_dict.items()}
        ) from None


def paged_response(view, request, queryset, serializer: type[serializers.Serializer]):
    paginator = CursorPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class SalesFilters(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100)
    status = serializers.CharField(required=False, max_length=30)
    customer = serializers.IntegerField(required=False)
    deal = serializers.IntegerField(required=False)
    owner = serializers.RegexField(r"^(me|\d+)$", required=False, help_text='"me" or a user id')


def filters_of(request) -> dict:
    filters = SalesFilters(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


def action_api(
    *,
    name: str,
    get: Callable,
    run: Callable,
    output: type[serializers.Serializer],
    request_serializer: type[serializers.Serializer] | None = None,
    perm: str = Perm.CHANGE_RECORDS,
    doc: str = "",
) -> type[APIView]:
    """POST /<collection>/<pk>/<action>/: load the record the user sees (get(user, pk)),
    validate the optional input, run(record=, actor=, **input) -> the record to show."""

    class ActionApi(APIView):
        permission_classes = [api_permission(perm)]

        @extend_schema(request=request_serializer, responses=output, description=doc)
        def post(self, request, pk):
            record = get(user=request.user, pk=pk)
            data = {}
            if request_serializer is not None:
                parsed = request_serializer(data=request.data)
                parsed.is_valid(raise_exception=True)
                data = parsed.validated_data
            result = service_call(run, record=record, actor=request.user, **data)
            return Response(output(result).data)

    ActionApi.__name__ = ActionApi.__qualname__ = name
    ActionApi.__doc__ = doc
    return ActionApi
