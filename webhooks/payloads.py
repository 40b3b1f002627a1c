"""The body of every outbound webhook, built in one place.

Custom fields and field-level security (the customization app) plug in here: the record
data an event carries passes through `webhook_payload`, so what an endpoint may see is
decided once for deliveries, replays and test events alike.
"""

from datetime import datetime

import orjson
from django.conf import settings


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
