"""REST API of the notification centre: my notifications (unread first), mark read."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.pagination import CursorPagination

from ..models import Notification
from ..selectors import reminders as selectors
from ..services import reminders as services


class NotificationOutput(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "record_type",
            "record_id",
            "due_at",
            "created_at",
            "read_at",
        ]


class NotificationFilters(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)


class UnreadFirstPagination(CursorPagination):
    ordering = "-sort_key"


def _lean(rows):
    for row in rows:
        row.pop("sort_key", None)
    return rows


class NotificationListApi(APIView):
    """The signed-in user's notifications: unread first, then newest first."""

    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(parameters=[NotificationFilters], responses=NotificationOutput(many=True))
    def get(self, request):
        filters = NotificationFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.notification_rows(
            user=request.user, unread=filters.validated_data.get("unread")
        )
        paginator = UnreadFirstPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response(page)  # the cursor needs sort_key
        _lean(response.data["results"])
        response.data["unread_count"] = selectors.unread_count(user=request.user)
        return response


class NotificationReadApi(APIView):
    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(request=None, responses=NotificationOutput)
    def post(self, request, pk):
        notification = selectors.notification_get(user=request.user, pk=pk)
        notification = services.notification_mark_read(notification=notification, user=request.user)
        return Response(NotificationOutput(notification).data)


class NotificationReadAllApi(APIView):
    permission_classes = [api_permission(Perm.VIEW_RECORDS)]

    @extend_schema(
        request=None,
        responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()}),
    )
    def post(self, request):
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})
