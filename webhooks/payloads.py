"""The body of every outbound webhook, built in one place.

An event's record data carries its custom fields; `webhook_data` shapes it for the role
the endpoint reads as (`Endpoint.reader_role`): fields hidden from that role and archived
custom fields are removed, as in the API, exports and search (customization.security).
"""

from datetime import datetime

import orjson
from django.conf import settings


def webhook_data(*, entity: str, data: dict, role: str) -> dict:
    from customization.security import shape_payload

    return shape_payload(entity, data, role=role)


def webhook_payload(*, event_type: str, occurred_at: datetime, data: dict) -> dict:
    """{"type", "timestamp", "data"} (the Standard Webhooks payload shape)."""
    return {"type": event_type, "timestamp": occurred_at.isoformat(), "data": data}


def payload_capped(payload: dict) -> dict:
    """The payload, or, above WEBHOOKS_MAX_PAYLOAD_BYTES, a stub with only the record id
    and `"truncated": true`: the receiver fetches the record through the API."""
    if len(orjson.dumps(payload)) <= settings.WEBHOOKS_MAX_PAYLOAD_BYTES:
        return payload
    data = payload.get("data") or {}
    return {**payload, "data": {"id": data.get("id")}, "truncated": True}
