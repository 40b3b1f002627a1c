"""REST API for search: global results per type and a fast type-ahead."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm

from ..selectors import search as selectors

RESULT = {
    "type": serializers.ChoiceField(choices=list(selectors.TYPES)),
    "id": serializers.IntegerField(),
    "name": serializers.CharField(),
    "subtitle": serializers.CharField(),
    "in_pool": serializers.BooleanField(),
    "url": serializers.CharField(allow_null=True),
}


class SearchParams(serializers.Serializer):
    q = serializers.CharField(max_length=100, trim_whitespace=True)
    types = serializers.CharField(required=False, help_text="customer,contact,lead")
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=selectors.MAX_PER_TYPE, default=10
    )

    def validate_types(self, value):
        kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
        unknown = sorted(set(kinds) - set(selectors.TYPES))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown types: %(types)s.") % {"types": ", ".join(unknown)}
            )
        return kinds


class TypeaheadParams(serializers.Serializer):
    q = serializers.CharField(max_length=100, trim_whitespace=True)


class SearchApi(APIView):
    """Customers, contacts and leads the caller may see whose name, e-mail or phone
    contains `q` (two characters at least), best matches first."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(
        parameters=[SearchParams],
        responses=inline_serializer(
            "SearchResults",
            {
                kind: inline_serializer(f"SearchResult_{kind}", RESULT, many=True)
                for kind in selectors.TYPES
            },
        ),
    )
    def get(self, request):
        params = SearchParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return Response(
            selectors.search(
                user=request.user, q=data["q"], types=data.get("types"), limit=data["limit"]
            )
        )


class TypeaheadApi(APIView):
    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(
        parameters=[TypeaheadParams],
        responses=inline_serializer("TypeaheadResult", RESULT, many=True),
    )
    def get(self, request):
        params = TypeaheadParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(selectors.typeahead(user=request.user, q=params.validated_data["q"]))
