"""REST API for activities: lean list, CRUD, quick call log, complete, check-in."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_platform.kernel.serializers import StrictInput
from customization.api_support import CustomFieldsInput, SecuredRecordOutput

from ..models import Activity, Contact, Customer, Deal, Lead
from ..selectors import activities as selectors
from ..services import activities as services
from .common import lean_list_response, record_permission


class ActivityRow(serializers.Serializer):
    """One list row (documentation of the lean list; rows are built from .values())."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    subject = serializers.CharField()
    body = serializers.CharField()
    priority = serializers.ChoiceField(choices=Activity.Priority.choices)
    assignee_id = serializers.IntegerField(allow_null=True)
    assignee_name = serializers.CharField(allow_null=True)
    created_by_id = serializers.IntegerField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    check_in_place = serializers.CharField()
    customer_id = serializers.IntegerField(allow_null=True)
    contact_id = serializers.IntegerField(allow_null=True)
    lead_id = serializers.IntegerField(allow_null=True)
    deal_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ActivityFilters(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Activity.Kind.choices, required=False)
    assignee = serializers.RegexField(r"^(me|\d+)$", required=False, help_text='"me" or an id')
    due_after = serializers.DateTimeField(required=False)
    due_before = serializers.DateTimeField(required=False)
    done = serializers.BooleanField(required=False, allow_null=True, default=None)
    customer = serializers.IntegerField(required=False)
    contact = serializers.IntegerField(required=False)
    lead = serializers.IntegerField(required=False)
    deal = serializers.IntegerField(required=False)
    ordering = serializers.ChoiceField(choices=sorted(selectors.ORDERINGS), required=False)


def _related(source, model):
    return serializers.PrimaryKeyRelatedField(
        source=source, required=False, allow_null=True, queryset=model.objects.all()
    )


class ActivityInput(CustomFieldsInput, StrictInput):
    """Parses types; the activity services validate the rules. A quick call log needs
    only kind, subject and one linked record."""

    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    subject = serializers.CharField(max_length=200, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    assignee_id = _related("assignee", User)
    priority = serializers.ChoiceField(choices=Activity.Priority.choices, required=False)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    check_in_place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    customer_id = _related("customer", Customer)
    contact_id = _related("contact", Contact)
    lead_id = _related("lead", Lead)
    deal_id = _related("deal", Deal)


_API_NAMES = {name: f"{name}_id" for name in ("assignee", "customer", "contact", "lead", "deal")}


def _service_call(function, **kwargs):
    """Run an activity service; its ValidationError names the API's fields."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise serializers.ValidationError(
            {_API_NAMES.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from None


class ActivityOutput(SecuredRecordOutput):
    assignee_name = serializers.CharField(source="assignee.get_full_name", default=None)

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "subject",
            "body",
            "priority",
            "assignee_id",
            "assignee_name",
            "created_by_id",
            "due_at",
            "starts_at",
            "ends_at",
            "done_at",
            "check_in_place",
            "customer_id",
            "contact_id",
            "lead_id",
            "deal_id",
            "created_at",
            "updated_at",
        ]


def _rename(rows):
    for row in rows:
        row["assignee_name"] = row.pop("assignee__full_name")
    return rows


class ActivityListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[ActivityFilters], responses=ActivityRow(many=True))
    def get(self, request):
        return lean_list_response(
            self,
            request,
            filters_class=ActivityFilters,
            rows=selectors.activity_rows,
            shape=_rename,
        )

    @extend_schema(request=ActivityInput, responses={201: ActivityOutput})
    def post(self, request):
        data = ActivityInput(data=request.data)
        data.is_valid(raise_exception=True)
        activity = _service_call(
            services.activity_create, actor=request.user, data=data.validated_data
        )
        return Response(
            ActivityOutput(activity, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ActivityDetailApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(responses=ActivityOutput)
    def get(self, request, pk):
        return Response(
            ActivityOutput(
                selectors.activity_get(user=request.user, pk=pk), context={"request": request}
            ).data
        )

    @extend_schema(request=ActivityInput, responses=ActivityOutput)
    def patch(self, request, pk):
        activity = selectors.activity_get(user=request.user, pk=pk)
        data = ActivityInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        activity = _service_call(
            services.activity_update,
            activity=activity,
            actor=request.user,
            data=data.validated_data,
        )
        return Response(ActivityOutput(activity, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        activity = selectors.activity_get(user=request.user, pk=pk)
        services.activity_delete(activity=activity, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivityCompleteApi(APIView):
    permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

    @extend_schema(request=None, responses=ActivityOutput)
    def post(self, request, pk):
        activity = selectors.activity_get(user=request.user, pk=pk)
        activity = services.activity_complete(activity=activity, actor=request.user)
        return Response(ActivityOutput(activity, context={"request": request}).data)


class CheckInInput(StrictInput):
    place = serializers.CharField(max_length=200, allow_blank=True)


class ActivityCheckInApi(APIView):
    permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

    @extend_schema(request=CheckInInput, responses=ActivityOutput)
    def post(self, request, pk):
        activity = selectors.activity_get(user=request.user, pk=pk)
        data = CheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        activity = services.activity_check_in(
            activity=activity, actor=request.user, place=data.validated_data["place"]
        )
        return Response(ActivityOutput(activity, context={"request": request}).data)
