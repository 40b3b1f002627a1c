"""Inbound API: another system creates or updates customers, contacts, leads and deals.

Authenticated by an API token only (no session: it is machine-to-machine) and made safe
to retry by the `Idempotency-Key` header. Writes go through the CRM's own services, so
the rules, history, visibility and outbox events are those of the ordinary API.
"""

import orjson
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication
from accounts.permissions import api_permission
from accounts.roles import Perm
from crm_core.api import contacts, customers, deals, leads
from crm_core.selectors import contacts as contact_selectors
from crm_core.selectors import customers as customer_selectors
from crm_core.selectors import deals as deal_selectors
from crm_core.selectors import leads as lead_selectors
from crm_core.services import contacts as contact_services
from crm_core.services import customers as customer_services
from crm_core.services import deals as deal_services
from crm_core.services import leads as lead_services
from crm_platform.kernel.renderers import ORJSONRenderer
from crm_platform.kernel.serializers import StrictInput

from .inbound import idempotent_call, request_fingerprint

# type -> (input, output, get, create, update); update(record, actor=, data=)
RECORD_TYPES = {
    "customer": (
        customers.CustomerInput,
        customers.CustomerOutput,
        customer_selectors.customer_get,
        customer_services.customer_create,
        lambda record, **kw: customer_services.customer_update(customer=record, **kw),
    ),
    "contact": (
        contacts.ContactInput,
        contacts.ContactOutput,
        contact_selectors.contact_get,
        contact_services.contact_create,
        lambda record, **kw: contact_services.contact_update(contact=record, **kw),
    ),
    "lead": (
        leads.LeadInput,
        leads.LeadOutput,
        lead_selectors.lead_get,
        lead_services.lead_create,
        lambda record, **kw: lead_services.lead_update(lead=record, **kw),
    ),
    "deal": (
        deals.DealInput,
        deals.DealOutput,
        deal_selectors.deal_get,
        deal_services.deal_create,
        lambda record, **kw: deal_services.deal_update(deal=record, **kw),
    ),
}


RECORD_TYPE_CHOICES = [(kind, kind) for kind in sorted(RECORD_TYPES)]


class InboundInput(StrictInput):
    type = serializers.ChoiceField(choices=RECORD_TYPE_CHOICES)
    id = serializers.IntegerField(required=False, help_text="Given: update this record.")
    data = serializers.DictField(help_text="The fields, as in the record type's own API.")


class InboundRecordApi(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [api_permission(Perm.CHANGE_RECORDS)]

    @extend_schema(
        request=InboundInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Unique per logical request; a retry returns the first response.",
            )
        ],
        responses={
            200: inline_serializer("InboundUpdated", {"type": serializers.CharField()}),
            201: inline_serializer("InboundCreated", {"type": serializers.CharField()}),
        },
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 255:
            raise serializers.ValidationError(
                {"idempotency_key": ["Send an Idempotency-Key header of 1 to 255 characters."]}
            )
        envelope = InboundInput(data=request.data)
        envelope.is_valid(raise_exception=True)
        kind, pk = envelope.validated_data["type"], envelope.validated_data.get("id")
        input_class, output_class, get, create, update = RECORD_TYPES[kind]

        def produce():
            data = input_class(data=envelope.validated_data["data"], partial=pk is not None)
            data.is_valid(raise_exception=True)
            if pk is None:
                record, code = create(actor=request.user, data=data.validated_data), 201
            else:
                record = get(user=request.user, pk=pk)
                update(record, actor=request.user, data=data.validated_data)
                code = 200
            record = get(user=request.user, pk=record.pk)  # fresh, with its relations
            # Stored as the JSON that was sent, so a replay is byte-for-byte the same.
            body = ORJSONRenderer().render({"type": kind, **output_class(record).data})
            return code, orjson.loads(body)

        status, body, replayed = idempotent_call(
            user=request.user,
            key=key,
            fingerprint=request_fingerprint(request.data),
            produce=produce,
        )
        response = Response(body, status=status)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response
