"""Standard Webhooks signatures (https://www.standardwebhooks.com/)."""

import base64
import hashlib
import hmac

from .secrets import secret_key_bytes


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(*, secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict:
    """The three webhook-* headers; during a rotation every live secret signs (space-
    separated signatures), so a receiver holding either secret accepts the message."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets
        ),
    }
