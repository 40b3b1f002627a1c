"""REST API of webhooks: endpoints (CRUD, secret rotation and reveal, test event) and the
delivery log (filters, attempts, replay). Admins only (Perm.MANAGE_WEBHOOKS)."""

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm, Role
from crm_platform.kernel.pagination import CursorPagination
from crm_platform.kernel.serializers import StrictInput

from . import event_types, selectors, services
from .models import Attempt, Delivery, Endpoint

_ADMIN = [api_permission(Perm.MANAGE_WEBHOOKS)]


def _no_store(response: Response) -> Response:
    """Responses carrying a signing secret must not be kept by any cache."""
    response["Cache-Control"] = "no-store"
    return response


class EndpointInput(StrictInput):
    url = serializers.CharField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=event_types.SUBSCRIBABLE),
        required=False,
        help_text="Subscribed event types; empty: every event.",
    )
    enabled = serializers.BooleanField(required=False)
    reader_role = serializers.ChoiceField(
        choices=Role.choices,
        required=False,
        help_text="Bodies carry the fields this role may see (field-level security).",
    )


class EndpointOutput(serializers.ModelSerializer):
    class Meta:
        model = Endpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "enabled",
            "reader_role",
            "disabled_reason",
            "failing_since",
            "created_at",
            "updated_at",
        ]


class EndpointCreatedOutput(EndpointOutput):
    secret = serializers.CharField(help_text="Shown once: store it to verify signatures.")

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]


SecretOutput = inline_serializer("WebhookSecret", {"secret": serializers.CharField()})


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = [
            "number",
            "trigger",
            "started_at",
            "latency_ms",
            "status_code",
            "succeeded",
            "error",
            "response_body",
        ]


class WebhookDeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "endpoint_id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "completed_at",
        ]


class WebhookDeliveryDetailOutput(WebhookDeliveryOutput):
    body = serializers.JSONField()
    attempt_log = serializers.SerializerMethodField()

    class Meta(WebhookDeliveryOutput.Meta):
        fields = [*WebhookDeliveryOutput.Meta.fields, "body", "attempt_log"]

    @extend_schema_field(AttemptOutput(many=True))
    def get_attempt_log(self, delivery) -> list[dict]:
        return AttemptOutput(selectors.delivery_attempts(delivery=delivery), many=True).data


class DeliveryFilters(serializers.Serializer):
    endpoint = serializers.IntegerField(required=False)
    event_type = serializers.CharField(required=False, max_length=100)
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False)


class EndpointListApi(APIView):
    permission_classes = _ADMIN
    pagination_class = None

    @extend_schema(responses=EndpointOutput(many=True))
    def get(self, request):
        return Response(EndpointOutput(selectors.endpoint_list(), many=True).data)

    @extend_schema(request=EndpointInput, responses={201: EndpointCreatedOutput})
    def post(self, request):
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(actor=request.user, data=data.validated_data)
        output = {**EndpointOutput(endpoint).data, "secret": secret}
        return _no_store(Response(output, status=status.HTTP_201_CREATED))


class EndpointDetailApi(APIView):
    permission_classes = _ADMIN

    @extend_schema(responses=EndpointOutput)
    def get(self, request, pk):
        return Response(EndpointOutput(selectors.endpoint_get(pk=pk)).data)

    @extend_schema(request=EndpointInput, responses=EndpointOutput)
    def patch(self, request, pk):
        endpoint = selectors.endpoint_get(pk=pk)
        data = EndpointInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(
            endpoint=endpoint, actor=request.user, data=data.validated_data
        )
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.endpoint_delete(endpoint=selectors.endpoint_get(pk=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretApi(APIView):
    """A new secret; the old one keeps signing for 24 hours (both signatures are sent)."""

    permission_classes = _ADMIN

    @extend_schema(request=None, responses=SecretOutput)
    def post(self, request, pk):
        endpoint = selectors.endpoint_get(pk=pk)
        secret = services.endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
        return _no_store(Response({"secret": secret}))


class EndpointRevealSecretApi(APIView):
    """The current secret (an explicit action, so it is never in ordinary responses)."""

    permission_classes = _ADMIN

    @extend_schema(request=None, responses=SecretOutput)
    def post(self, request, pk):
        endpoint = selectors.endpoint_get(pk=pk)
        secret = services.endpoint_secret_reveal(endpoint=endpoint, actor=request.user)
        return _no_store(Response({"secret": secret}))


class EndpointTestApi(APIView):
    """Queue a `webhook.test` event to this endpoint; its outcome appears in the log."""

    permission_classes = _ADMIN

    @extend_schema(request=None, responses={202: WebhookDeliveryOutput})
    def post(self, request, pk):
        endpoint = selectors.endpoint_get(pk=pk)
        delivery = services.endpoint_send_test(endpoint=endpoint, actor=request.user)
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListApi(APIView):
    permission_classes = _ADMIN

    @extend_schema(parameters=[DeliveryFilters], responses=WebhookDeliveryOutput(many=True))
    def get(self, request):
        filters = DeliveryFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            selectors.delivery_list(**filters.validated_data), request, view=self
        )
        return paginator.get_paginated_response(WebhookDeliveryOutput(page, many=True).data)


class DeliveryDetailApi(APIView):
    permission_classes = _ADMIN

    @extend_schema(responses=WebhookDeliveryDetailOutput)
    def get(self, request, pk):
        return Response(WebhookDeliveryDetailOutput(selectors.delivery_get(pk=pk)).data)


class DeliveryReplayApi(APIView):
    """Send the delivery again now, with the same webhook-id."""

    permission_classes = _ADMIN

    @extend_schema(request=None, responses={202: WebhookDeliveryOutput})
    def post(self, request, pk):
        delivery = services.delivery_replay(
            delivery=selectors.delivery_get(pk=pk), actor=request.user
        )
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
