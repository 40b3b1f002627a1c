"""Secrets handed to people: API tokens, invitation links, the signup hand-over."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core import signing

API_TOKEN_PREFIX = "crm"  # noqa: S105 - a public marker, not a secret


def api_token_generate() -> tuple[str, str, str]:
    """A new token as (raw token, lookup prefix, SHA-256 hex of the raw token)."""
    prefix = secrets.token_hex(6)
    raw = f"{API_TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return raw, prefix, api_token_hash(raw)


def api_token_hash(raw: str) -> str:
    # The token has 256 bits of entropy: a fast hash is enough, no stretching needed.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_split(raw: str) -> str | None:
    """The lookup prefix of a well-formed token, or None."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != API_TOKEN_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def api_token_matches(raw: str, key_hash: str) -> bool:
    return hmac.compare_digest(api_token_hash(raw), key_hash)


_INVITE_SALT = "accounts.invitation"
_HANDOVER_SALT = "accounts.handover"


def invitation_link_token(*, schema_name: str, invitation_id: int, nonce: str) -> str:
    return signing.dumps({"s": schema_name, "i": invitation_id, "n": nonce}, salt=_INVITE_SALT)


def invitation_link_load(token: str) -> dict | None:
    max_age = settings.INVITATION_MAX_AGE_DAYS * 24 * 3600
    try:
        return signing.loads(token, salt=_INVITE_SALT, max_age=max_age)
    except signing.BadSignature:
        return None


def handover_token(*, schema_name: str, email: str) -> str:
    """One-time login on the company host after a signup on the public host.

    Cookies are host-only, so the session cannot be shared; this short-lived signed token
    carries the login across. It is one-time because it is only honoured while the owner
    has never logged in (accounts.views.handover).
    """
    return signing.dumps({"s": schema_name, "e": email}, salt=_HANDOVER_SALT)


def handover_load(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=_HANDOVER_SALT, max_age=settings.HANDOVER_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
